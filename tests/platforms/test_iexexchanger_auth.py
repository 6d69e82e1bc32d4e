"""Linking a partner's iEXExchanger key: every authentication failure in the documented order, the
scopes read in both spellings (or probed endpoint by endpoint), and what the key can't do."""

from __future__ import annotations

import httpx
import pytest

from bot.domain import errors
from bot.domain.capabilities import Capability
from bot.platforms.iexexchanger import INFO
from bot.platforms.iexexchanger.adapter import IexPlatform
from bot.platforms.iexexchanger.client import IexClient
from bot.platforms.iexexchanger.envelope import decode, error_for
from bot.platforms.iexexchanger.errors import ApiAccessDisabled
from bot.platforms.iexexchanger.sandbox import IexSandbox
from bot.platforms.iexexchanger.sandbox.keys import FULL, KEYS, PARTNER_SCOPES, DemoKey
from bot.platforms.iexexchanger.scopes import short_scope
from tests.platforms.iexexchanger_support import cabinet_for, platform_fixture, sb_fixture, statuses  # noqa: F401

PARTNER_PATHS = (
    "/private/partner",
    "/private/partner/statistics",
    "/private/partner/referrals",
    "/private/partner/exchanges",
    "/private/partner/payouts",
)


async def test_a_full_key_links_with_nothing_missing(platform: IexPlatform, sb: IexSandbox) -> None:
    check = await cabinet_for(platform, "full").check_key()
    assert check.partner_id == "Gz" and not check.missing
    assert check.label == "telegram-bot (41|iexS…)" and FULL.token not in repr(check)
    assert statuses(sb, "/private/scopes") == [200]  # scopes read once, no probing
    assert not sb.calls("/private/partner/payouts")


async def test_scopes_in_either_spelling_and_the_missing_one_named(platform: IexPlatform) -> None:
    assert any(s.startswith("public-api:") for s in KEYS["noscope"].scopes)
    check = await cabinet_for(platform, "noscope").check_key()
    assert dict(check.missing) == {
        Capability.PARTNER_PAYOUTS: "partner:payouts:read",
        Capability.PUSH_WEBHOOK: "webhooks:write",
    }
    with pytest.raises(errors.PermissionMissing) as info:
        [p async for p in cabinet_for(platform, "noscope").payouts(0, 2**31)]
    assert info.value.permission == "partner:payouts:read" and info.value.code == "scope_denied"
    assert "partner:payouts:read" in str(info.value) and "ask the exchanger" in str(info.value)


async def test_without_scopes_read_each_endpoint_is_probed_once(
    platform: IexPlatform, sb: IexSandbox
) -> None:
    check = await cabinet_for(platform, "preset").check_key()
    assert dict(check.missing) == {Capability.PUSH_WEBHOOK: "webhooks:write"}
    assert statuses(sb, "/private/scopes") == [403]
    for path in PARTNER_PATHS[1:]:
        assert statuses(sb, path) == [200], path
    probes = sb.calls("/private/partner/payouts")
    assert "per_page=1" in probes[0]["query"]


async def test_a_key_without_any_partner_scope_is_refused(sb: IexSandbox) -> None:
    bare = DemoKey("bare", "77|" + "b" * 40, 77, 501, ("scopes:read", "usage:read"), name="bare")
    sb.keys["bare"] = bare
    adapter = IexPlatform(IexClient(sb.url, retries=0))
    try:
        with pytest.raises(errors.PermissionMissing) as info:
            await adapter.cabinet(adapter.credentials({"token": bare.token})).check_key()
    finally:
        await adapter.aclose()
    assert not isinstance(info.value, errors.SignatureRequired)
    assert all(scope in str(info.value) for scope in PARTNER_SCOPES)


@pytest.mark.parametrize(
    ("handle", "error", "code", "advice"),
    [
        ("off", errors.CredentialsRejected, "invalid_token", "switched on"),
        ("disabled", ApiAccessDisabled, "api_access_disabled", "enable API access"),
        ("iplocked", errors.IpNotAllowed, "ip_not_allowed", "allow-list"),
    ],
)
async def test_each_refusal_says_what_to_change_on_the_site(
    platform: IexPlatform, sb: IexSandbox, handle: str, error: type[Exception], code: str, advice: str
) -> None:
    with pytest.raises(error) as info:
        await cabinet_for(platform, handle).check_key()
    assert info.value.code == code and advice in str(info.value)  # type: ignore[attr-defined]
    assert KEYS[handle].token not in str(info.value) and KEYS[handle].token not in repr(info.value)
    assert len(sb.calls()) == 1  # 401/403 are never repeated


async def test_an_unknown_token_is_invalid(platform: IexPlatform) -> None:
    cabinet = platform.cabinet(platform.credentials({"token": "99|" + "z" * 40}))
    with pytest.raises(errors.CredentialsRejected) as info:
        await cabinet.check_key()
    assert info.value.code == "invalid_token"


async def test_scope_denied_comes_before_signature_required(sb: IexSandbox) -> None:
    key = DemoKey("hmac-noscope", "78|" + "h" * 40, 78, 501, PARTNER_SCOPES[:2], hmac_secret="s" * 20,
                  hmac_required=True)  # fmt: skip
    sb.keys[key.handle] = key
    async with httpx.AsyncClient() as http:
        denied = await http.get(
            sb.url + "/api/v3/private/partner/payouts", headers={"Authorization": f"Bearer {key.token}"}
        )
        unsigned = await http.get(
            sb.url + "/api/v3/private/partner", headers={"Authorization": f"Bearer {key.token}"}
        )
        nobody = await http.get(sb.url + "/api/v3/private/partner")
    assert (denied.status_code, denied.json()["error"]["code"]) == (403, "scope_denied")
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (401, "signature_required")
    assert (nobody.status_code, nobody.json()["error"]["code"]) == (401, "authentication_required")
    label = "GET /private/partner"
    envelope = decode(nobody.status_code, nobody.content, nobody.headers, method=label, secrets=())
    error = error_for(envelope, method=label)
    assert isinstance(error, errors.CredentialsRejected) and "Authorization" in str(error)


async def test_a_key_without_a_partner_profile(platform: IexPlatform) -> None:
    with pytest.raises(errors.NotAPartner):
        await cabinet_for(platform, "client").check_key()


async def test_a_new_partner_without_data_links_and_reads_empty_lists(platform: IexPlatform) -> None:
    cabinet = cabinet_for(platform, "newbie")
    check = await cabinet.check_key()
    assert check.partner_id == "Nw"
    summary = await cabinet.summary()
    assert summary.balance == 0 and summary.referral_count == 0
    assert [e async for e in cabinet.exchanges(0, 2**31)] == []
    stats = await cabinet.statistics("month")
    assert stats.exchanges == 0 and stats.accruals == 0


def test_credentials_token_and_optional_hmac_secret(platform: IexPlatform) -> None:
    assert [f.name for f in INFO.credential_fields] == ["token", "hmac_secret"]
    assert [f.optional for f in INFO.credential_fields] == [False, True]
    linked = platform.credentials({"token": f"  {FULL.token} "})
    assert linked.get("token") == FULL.token and linked.get("hmac_secret") is None
    assert FULL.token not in repr(linked) and linked.label == "41|iexS…"
    both = platform.credentials({"token": FULL.token, "hmac_secret": "hs_sandbox_secret_7Qm2"})
    assert both.get("hmac_secret") == "hs_sandbox_secret_7Qm2"
    for bad in (
        {},
        {"token": "short"},
        {"token": "x" * 20 + " y"},
        {"token": FULL.token, "hmac_secret": "кириллица"},
    ):
        with pytest.raises(ValueError) as info:
            platform.credentials(bad)
        assert FULL.token not in str(info.value)


def test_scope_spellings() -> None:
    assert short_scope("public-api:partner:read") == "partner:read" == short_scope(" Partner:Read ")
