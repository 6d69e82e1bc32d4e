"""Status callbacks: one POST of form fields `bid_id`, `status` to the bid's callback_url.

Like the real server: one attempt, a timeout (20 s by default), no retry, no signature, the response
is ignored and failures are swallowed. Deliveries run one after another in a background task, so
the API answer never waits for them and callbacks arrive in status order. Every attempt is recorded
in `records` as {"url", "form", "ok", "status_code", "error"}; ok means a 2xx answer came back.
"""

import asyncio
import contextlib

import aiohttp


class CallbackSender:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.records: list[dict] = []
        self._queue: asyncio.Queue[tuple[str, dict[str, str]]] | None = None
        self._task: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None
        self._idle = asyncio.Event()

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._session = aiohttp.ClientSession()
        self._idle.set()
        self._task = asyncio.create_task(self._run(), name="sandbox-callbacks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def send(self, url: str, form: dict[str, str]) -> None:
        if self._queue is None:  # not started: record the attempt as failed
            self.records.append(
                {"url": url, "form": form, "ok": False, "status_code": None, "error": "sandbox not running"}
            )
            return
        self._idle.clear()
        self._queue.put_nowait((url, form))

    async def drain(self, max_wait: float = 10.0) -> None:
        """Wait until every queued callback has been attempted."""
        await asyncio.wait_for(self._idle.wait(), max_wait)

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            url, form = await self._queue.get()
            record = {"url": url, "form": form, "ok": False, "status_code": None, "error": ""}
            try:
                assert self._session is not None
                async with self._session.post(
                    url, data=form, timeout=aiohttp.ClientTimeout(total=self.timeout), allow_redirects=False
                ) as response:
                    record["status_code"] = response.status
                    record["ok"] = 200 <= response.status < 300
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure is swallowed, as upstream does
                record["error"] = f"{type(exc).__name__}: {exc}"
            self.records.append(record)
            if self._queue.empty():
                self._idle.set()
