"""HMAC request signing of iEXExchanger API v3, byte for byte: the worked examples of the reference
page, PHP's ``rawurlencode`` canonical query, and signed requests accepted by the sandbox (which builds
its canonical string on its own), a fresh nonce per request and per retry, replays refused."""

from __future__ import annotations

import pytest

from bot.domain import errors
from bot.platforms.iexexchanger import signing
from bot.platforms.iexexchanger.adapter import IexPlatform
from bot.platforms.iexexchanger.errors import SignatureRejected, SignatureRequired
from bot.platforms.iexexchanger.info import HMAC_SECRET_FIELD
from bot.platforms.iexexchanger.sandbox import IexSandbox
from bot.platforms.iexexchanger.sandbox.auth import canonical
from bot.platforms.iexexchanger.sandbox.keys import HMAC
from tests.platforms.iexexchanger_support import cabinet_for, platform_fixture, sb_fixture, statuses  # noqa: F401

DAY = 86400


def test_request_signature_matches_the_worked_example() -> None:
    params = [("filter[status]", "paid"), ("per_page", "50"), ("page", "1")]
    message = signing.canonical_request(
        "get", "/api/v3/private/partner/payouts", params, b"", "1782190000", "req-20260623-001"
    )
    assert message == (
        "v1\nGET\n/api/v3/private/partner/payouts\nfilter%5Bstatus%5D=paid&page=1&per_page=50\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n1782190000\nreq-20260623-001"
    )
    signature = signing.sign_request(
        "hs_example_secret",
        "GET",
        "/api/v3/private/partner/payouts",
        params,
        b"",
        "1782190000",
        "req-20260623-001",
    )
    assert signature == "sha256=8e1c263aa9164bd50772cbc5c65faae5233f9d292956189213e794c8079ce5bb"


def test_webhook_signature_matches_the_worked_example() -> None:
    body = (
        b'{"id":"evt_01JZ8Q4V6T3M2N1P0R9S8T7U6V","type":"partner.payout.paid",'
        b'"created_at":"2026-06-23T10:00:00+00:00","data":{"payout":{"id":205,"public_id":"PO-000205",'
        b'"status":"paid","amount":"48.20","currency":"USDT","wallet":"TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",'
        b'"tx_id":"9f2c1e"}}}'
    )
    signature = signing.webhook_signature(
        "whsec_example",
        "evt_01JZ8Q4V6T3M2N1P0R9S8T7U6V",
        "partner.payout.paid",
        "1782190000",
        "wh_20260623_001",
        body,
    )
    assert signature == "sha256=781040512da4d45a763d7ea8a1c44f90ca0d662927433feada3b840882245bf4"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([], ""),
        ([("b", "2"), ("a", "1")], "a=1&b=2"),
        ([("filter[client_name]", "Artem Titov")], "filter%5Bclient_name%5D=Artem%20Titov"),
        ([("q", "a+b")], "q=a%2Bb"),
        ([("q", "it's (x)*!")], "q=it%27s%20%28x%29%2A%21"),
        ([("q", "-_.~")], "q=-_.~"),
        ([("filter[client_name]", "Артём")], "filter%5Bclient_name%5D=%D0%90%D1%80%D1%82%D1%91%D0%BC"),
        (
            [("filter[created_from]", "2026-06-01T00:00:00+00:00")],
            "filter%5Bcreated_from%5D=2026-06-01T00%3A00%3A00%2B00%3A00",
        ),
        # sorted as encoded strings, byte-wise: "%5B" sorts before letters
        ([("page", "1"), ("filter[status]", "paid"), ("Per", "x")], "Per=x&filter%5Bstatus%5D=paid&page=1"),
    ],
)
def test_canonical_query_is_php_rawurlencode_sorted(params: list[tuple[str, str]], expected: str) -> None:
    assert signing.canonical_query(params) == expected


def test_a_repeated_parameter_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="repeated"):
        signing.canonical_query([("page", "1"), ("page", "2")])


def test_the_url_query_is_what_php_reads_back() -> None:
    params = [("filter[client_name]", "Anna + Olga (vip)*"), ("page", "1")]
    sent = signing.query_string(params)
    assert "+" not in sent.replace("%2B", "")  # a space is %20, a plus %2B: PHP reads the same text back
    assert signing.php_query_pairs(sent) == params
    assert signing.php_query_pairs("a=1&a=2&b=x+y") == [("a", "2"), ("b", "x y")]


def test_sandbox_and_client_build_the_same_canonical_string() -> None:
    params = [
        ("filter[client_email]", "maria.popova@example.net"),
        ("per_page", "100"),
        ("pagination", "cursor"),
    ]
    ours = signing.canonical_request(
        "GET", "/api/v3/private/partner/referrals", params, b"", "1782190000", "n-1"
    )
    theirs = canonical(
        "GET", "/api/v3/private/partner/referrals", signing.query_string(params), b"", "1782190000", "n-1"
    )
    assert ours == theirs


def test_signature_comparison_accepts_prefix_and_case_only() -> None:
    good = "sha256=781040512da4d45a763d7ea8a1c44f90ca0d662927433feada3b840882245bf4"
    assert signing.signature_matches(good, good)
    assert signing.signature_matches(good, good.removeprefix("sha256="))
    assert signing.signature_matches(good, good.upper().replace("SHA256=", "sha256="))
    assert not signing.signature_matches(good, good[:-1] + "5")
    assert not signing.signature_matches(good, "")
    assert not signing.signature_matches(good, "sha256=ünïcode")


async def test_signed_requests_reach_the_data(platform: IexPlatform, sb: IexSandbox) -> None:
    cabinet = cabinet_for(platform, "hmac")
    check = await cabinet.check_key()
    assert not check.missing and check.label.startswith("hmac-signed")
    now = int(sb.now())
    payouts = [p async for p in cabinet.payouts(now - 200 * DAY, now, status="paid")]
    assert payouts and all(p.status_code == "paid" for p in payouts)
    calls = sb.calls(key="hmac")
    assert len(calls) >= 3 and all(call["status"] == 200 for call in calls)
    nonces = [call["nonce"] for call in calls]
    assert all(nonces) and len(set(nonces)) == len(nonces)


async def test_every_request_and_every_retry_gets_a_fresh_nonce(
    platform: IexPlatform, sb: IexSandbox
) -> None:
    cabinet = cabinet_for(platform, "hmac")
    sb.faults.next("/private/partner", "http502")
    summary = await cabinet.summary()  # the retry is signed again: a reused nonce would be a replay
    assert summary.balance is not None
    assert statuses(sb, "/private/partner") == ["fault:http502", 200]
    await cabinet.summary()
    assert statuses(sb, "/private/partner")[-1] == 200


async def test_without_the_secret_the_server_asks_for_it(platform: IexPlatform) -> None:
    with pytest.raises(SignatureRequired) as info:
        await cabinet_for(platform, "hmac", with_secret=False).check_key()
    assert isinstance(info.value, errors.SignatureRequired) and isinstance(
        info.value, errors.PermissionMissing
    )
    assert info.value.field == HMAC_SECRET_FIELD.name and info.value.code == "signature_required"
    assert HMAC.token not in str(info.value)
    assert HMAC_SECRET_FIELD in platform.info.credential_fields and HMAC_SECRET_FIELD.optional


async def test_a_wrong_secret_is_an_invalid_signature(platform: IexPlatform) -> None:
    cabinet = platform.cabinet(
        platform.credentials({"token": HMAC.token, "hmac_secret": "whsec_not_the_hmac_one"})
    )
    with pytest.raises(SignatureRejected) as info:
        await cabinet.check_key()
    assert isinstance(info.value, errors.CredentialsRejected)
    assert "whsec_not_the_hmac_one" not in str(info.value) and HMAC.token not in str(info.value)


async def test_the_sandbox_refuses_a_replayed_nonce(sb: IexSandbox) -> None:
    import httpx

    path = "/api/v3/private/partner"
    headers = {"Authorization": f"Bearer {HMAC.token}", "Accept": "application/json",
               "X-Api-Timestamp": str(int(sb.now())), "X-Api-Nonce": "once-only-nonce-1"}  # fmt: skip
    assert HMAC.hmac_secret is not None
    headers["X-Api-Signature"] = signing.sign_request(
        HMAC.hmac_secret, "GET", path, [], b"", headers["X-Api-Timestamp"], headers["X-Api-Nonce"]
    )
    async with httpx.AsyncClient() as http:
        first = await http.get(sb.url + path, headers=headers)
        again = await http.get(sb.url + path, headers=headers)
        stale = dict(headers, **{"X-Api-Timestamp": str(int(sb.now()) - 3600), "X-Api-Nonce": "n-2"})
        stale["X-Api-Signature"] = signing.sign_request(
            HMAC.hmac_secret, "GET", path, [], b"", stale["X-Api-Timestamp"], "n-2"
        )
        old = await http.get(sb.url + path, headers=stale)
        unsigned_path = await http.get(
            sb.url + path + "?page=1", headers=dict(headers, **{"X-Api-Nonce": "n-3"})
        )  # the query was not signed
    assert first.status_code == 200 and first.json()["state"] == 0
    assert again.status_code == 401 and again.json()["error"]["code"] == "signature_replay"
    assert old.status_code == 401 and old.json()["error"]["code"] == "invalid_signature"
    assert unsigned_path.status_code == 401 and unsigned_path.json()["error"]["code"] == "invalid_signature"


async def test_a_replay_answer_is_signed_again_once(platform: IexPlatform, sb: IexSandbox) -> None:
    sb.faults.next("/private/partner", "replay")
    summary = await cabinet_for(platform, "hmac").summary()
    assert summary.balance is not None
    calls = sb.calls("/private/partner")
    assert [c["status"] for c in calls] == ["fault:replay", 200]
    assert calls[0]["nonce"] and calls[1]["nonce"] and calls[0]["nonce"] != calls[1]["nonce"]


async def test_a_second_replay_is_not_retried_again(platform: IexPlatform, sb: IexSandbox) -> None:
    sb.faults.next("/private/partner", "replay", times=2)
    with pytest.raises(SignatureRejected):
        await cabinet_for(platform, "hmac").summary()
    assert statuses(sb, "/private/partner") == ["fault:replay", "fault:replay"]
