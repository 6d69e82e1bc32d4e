"""A general iEXExchanger API v3 client: transport, auth, paging, and one module per part of the API.

    client = IexClient("https://exchanger.example", IexCredentials(SecretStr(token)))
    await client.ping()                       # public, no auth
    await client.scopes()                     # the key's scopes, short spelling
    await PartnerApi(client).summary()            # the partner part (:mod:`.partner`)
    await WebhooksApi(client).create(url, ...)    # webhook management (:mod:`.webhooks_api`)

The customer part of v3 (public catalogue, orders) becomes one more module next to ``partner`` and
``webhooks``, on the same :meth:`get` / :meth:`post` / :meth:`iter_rows`. ``scoped()`` gives cheap views
on another key that share the connection pool and the rate gate.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx

from bot.domain.errors import UnexpectedResponse
from bot.observability.exchanger import ExchangerObserver
from bot.platforms.iexexchanger import wire
from bot.platforms.iexexchanger.envelope import Envelope
from bot.platforms.iexexchanger.models import ApiKeyInfo, scopes_of
from bot.platforms.iexexchanger.paging import MAX_PER_PAGE, PageMode, filter_params, walk
from bot.platforms.iexexchanger.ratelimit import RateGate
from bot.platforms.iexexchanger.scopes import CLIENT_READ, SCOPES_READ
from bot.platforms.iexexchanger.transport import Connection, IexCredentials, Params

__all__ = ["IexClient", "filter_params"]


class IexClient:
    def __init__(
        self,
        site_url: str,
        credentials: IexCredentials | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 15.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_rate_wait: float = 10.0,
        page_mode: PageMode = PageMode.CURSOR,
        wall: Callable[[], float] = time.time,
        gate: RateGate | None = None,
        observer: ExchangerObserver | None = None,
    ) -> None:
        self._conn = Connection(
            site_url,
            http=http,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            max_rate_wait=max_rate_wait,
            wall=wall,
            gate=gate,
            observer=observer,
        )
        self._credentials = credentials
        self.page_mode = page_mode
        self._is_root = True

    def __repr__(self) -> str:
        return f"IexClient({self._conn.site_url!r}, {self._credentials!r})"

    def scoped(self, credentials: IexCredentials | None) -> IexClient:
        view = object.__new__(IexClient)
        view._conn = self._conn
        view._credentials = credentials
        view.page_mode = self.page_mode
        view._is_root = False
        return view

    @property
    def site_url(self) -> str:
        return self._conn.site_url

    @property
    def api_root(self) -> str:
        return self._conn.api_root

    @property
    def credentials(self) -> IexCredentials | None:
        return self._credentials

    @property
    def gate(self) -> RateGate:
        return self._conn.gate

    async def aclose(self) -> None:
        if self._is_root:
            await self._conn.aclose()

    async def __aenter__(self) -> IexClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- requests -------------------------------------------------------------------------------------

    def _need_key(self, path: str) -> IexCredentials | None:
        if path.startswith("/private") and self._credentials is None:
            raise ValueError(f"{path} needs a key: use client.scoped(credentials)")
        return self._credentials if path.startswith("/private") else None

    async def get(self, path: str, params: Params = (), *, scope: str | None = None) -> Envelope:
        return await self._conn.request(
            "GET", path, credentials=self._need_key(path), params=params, scope=scope
        )

    async def post(
        self, path: str, body: Any, *, scope: str | None = None, idempotency_key: str | None = None
    ) -> Envelope:
        return await self._conn.request(
            "POST", path, credentials=self._need_key(path), json_body=body, scope=scope,
            idempotency_key=idempotency_key,
        )  # fmt: skip

    async def delete(self, path: str, *, scope: str | None = None) -> Envelope:
        return await self._conn.request("DELETE", path, credentials=self._need_key(path), scope=scope)

    async def iter_rows(
        self,
        path: str,
        params: Params = (),
        *,
        scope: str | None = None,
        names: tuple[str, ...] = (),
        per_page: int = MAX_PER_PAGE,
        mode: PageMode | None = None,
        max_pages: int | None = None,
    ) -> AsyncIterator[Mapping[str, Any]]:
        """Every row of a list endpoint (both pagination modes, see :mod:`.paging`)."""

        async def fetch(query: list[tuple[str, str]]) -> Envelope:
            return await self.get(path, query, scope=scope)

        extra = {} if max_pages is None else {"max_pages": max_pages}
        async for row in walk(
            fetch, list(params), method=f"GET {path}", per_page=per_page, mode=mode or self.page_mode,
            names=names, **extra,
        ):  # fmt: skip
            yield row

    # -- the general part ----------------------------------------------------------------------------

    async def ping(self) -> Mapping[str, Any]:
        """``GET /api/v3/ping`` (no auth): ``{"status": "ok", "site_name", "time"}``."""
        envelope = await self.get("/ping")
        result = wire.unwrap_object(envelope.result, ("ping", "health"), expect=("status",))
        if wire.text(result.get("status")).lower() != "ok":
            raise UnexpectedResponse("ping did not answer status ok", method="GET /ping")
        return result

    async def scopes(self) -> frozenset[str]:
        """``GET /private/scopes`` (scope ``scopes:read``): the key's scopes, ``public-api:`` removed."""
        return scopes_of((await self.get("/private/scopes", scope=SCOPES_READ)).result)

    async def key_info(self) -> ApiKeyInfo:
        """``GET /private/client`` (scope ``client:read``): the key's name, scopes, HMAC requirement."""
        return ApiKeyInfo.from_wire((await self.get("/private/client", scope=CLIENT_READ)).result)

    async def usage(self) -> Mapping[str, Any]:
        """``GET /private/usage`` (scope ``usage:read``): ``quota.day`` and ``quota.month``."""
        result = (await self.get("/private/usage", scope="usage:read")).result
        return result if isinstance(result, Mapping) else {}
