"""The sandbox's accounts and API keys, one key for each authentication case. Printed by the sandbox
command and logged when the bot starts it; they are demo values, not secrets.

Tokens look like Sanctum tokens (``<id>|<40 characters>``). Scopes are stored in both spellings on
purpose (``public-api:partner:read`` and ``partner:read``), as installs and guides differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CLIENTS",
    "DEMO",
    "DISABLED",
    "FULL",
    "HMAC",
    "IP_LOCKED",
    "KEYS",
    "MISSING_SCOPE",
    "NEWBIE",
    "NOT_PARTNER",
    "PARTNER_PRESET",
    "PARTNER_SCOPES",
    "QUOTA",
    "SWITCHED_OFF",
    "DemoClient",
    "DemoKey",
    "describe_keys",
]

PARTNER_SCOPES = (
    "partner:read",
    "partner:statistics:read",
    "partner:referrals:read",
    "partner:exchanges:read",
    "partner:payouts:read",
)
WEBHOOK_SCOPES = ("webhooks:read", "webhooks:write", "webhooks:deliveries:read", "webhooks:deliveries:retry")
ALL_SCOPES = (*PARTNER_SCOPES, *WEBHOOK_SCOPES, "scopes:read", "client:read", "usage:read")


@dataclass(frozen=True)
class DemoClient:
    id: int
    name: str
    email: str
    api_access: bool = True
    partner: str | None = "rich"  # None: no partner profile; "rich": months of data; "empty": none yet


@dataclass(frozen=True)
class DemoKey:
    handle: str  # a short name for people and tests
    token: str
    key_id: int
    client_id: int
    scopes: tuple[str, ...]
    name: str = ""  # the key's name on its card
    hmac_secret: str | None = None
    hmac_required: bool = False
    allowed_ips: tuple[str, ...] = ()  # single IPs or CIDR; empty: any
    enabled: bool = True
    daily_quota: int | None = None
    note: str = ""


def _token(key_id: int, word: str) -> str:
    return f"{key_id}|{(word + '0' * 40)[:40]}"


def _public(scopes: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"public-api:{s}" for s in scopes)


PARTNER_CLIENT = DemoClient(501, "Partner Demo", "partner.demo@example.net")
NEWBIE_CLIENT = DemoClient(502, "Newbie Partner", "newbie@example.net", partner="empty")
API_OFF_CLIENT = DemoClient(503, "API Off", "api.off@example.net", api_access=False)
PLAIN_CLIENT = DemoClient(504, "Plain Client", "plain.client@example.net", partner=None)
CLIENTS = {c.id: c for c in (PARTNER_CLIENT, NEWBIE_CLIENT, API_OFF_CLIENT, PLAIN_CLIENT)}

FULL = DemoKey(
    "full", _token(41, "iexSandboxFullKeyA1b2C3d4E5f6G7h8I9j0K1"), 41, 501,
    (*_public(PARTNER_SCOPES[:3]), *PARTNER_SCOPES[3:], *WEBHOOK_SCOPES, "scopes:read",
     "public-api:client:read", "usage:read"),
    name="telegram-bot", note="every partner scope, webhooks, scopes:read; months of data",
)  # fmt: skip
PARTNER_PRESET = DemoKey(
    "preset", _token(42, "iexSandboxPresetKeyZ9y8X7w6V5u4T3s2R1q0"), 42, 501, PARTNER_SCOPES,
    name="partner-preset",
    note="the partner preset only (no scopes:read, no webhooks): probed endpoint by endpoint",
)  # fmt: skip
MISSING_SCOPE = DemoKey(
    "noscope", _token(43, "iexSandboxNoPayoutsKeyM1n2O3p4Q5r6S7t8U9"), 43, 501,
    (*_public(PARTNER_SCOPES[:4]), "public-api:scopes:read"),
    name="no-payouts", note="lacks partner:payouts:read (and webhooks); has scopes:read",
)  # fmt: skip
HMAC = DemoKey(
    "hmac", _token(44, "iexSandboxHmacKeyH1m2A3c4K5e6Y7h8M9a0C1"), 44, 501, ALL_SCOPES,
    name="hmac-signed", hmac_secret="hs_sandbox_secret_7Qm2Vx9Lp4Rt8Kw3", hmac_required=True,
    note="HMAC required on every request: link with the token, then the HMAC secret",
)  # fmt: skip
IP_LOCKED = DemoKey(
    "iplocked", _token(45, "iexSandboxIpLockedKeyI1p2L3o4C5k6E7d8X9"), 45, 501, ALL_SCOPES,
    name="office-only", allowed_ips=("203.0.113.0/24",), note="IP allow-list 203.0.113.0/24: ip_not_allowed",
)  # fmt: skip
DISABLED = DemoKey(
    "disabled", _token(46, "iexSandboxApiOffKeyD1s2A3b4L5e6D7a8P9i0"), 46, 503, ALL_SCOPES,
    name="api-off", note="the admin has API access off for the account: api_access_disabled",
)  # fmt: skip
SWITCHED_OFF = DemoKey(
    "off", _token(47, "iexSandboxSwitchedOffKeyO1f2F3k4E5y6S7w8"), 47, 501, ALL_SCOPES,
    name="switched-off", enabled=False, note="the key is switched off: invalid_token",
)  # fmt: skip
NEWBIE = DemoKey(
    "newbie", _token(48, "iexSandboxNewbieKeyN1e2W3b4I5e6P7a8R9t0"), 48, 502,
    (*PARTNER_SCOPES, "scopes:read"),
    name="newbie", note="a partner without any data yet",
)  # fmt: skip
NOT_PARTNER = DemoKey(
    "client", _token(49, "iexSandboxPlainClientKeyP1l2A3i4N5c6L7i8"), 49, 504,
    (*PARTNER_SCOPES, "scopes:read"),
    name="not-a-partner", note="an account with no partner profile: /private/partner answers 404 not_found",
)  # fmt: skip
QUOTA = DemoKey(
    "quota", _token(50, "iexSandboxQuotaKeyQ1u2O3t4A5k6E7y8Q9u0T1"), 50, 501, PARTNER_SCOPES,
    name="small-quota", daily_quota=25, note="25 requests a day: then 429 quota_exceeded",
)  # fmt: skip

DEMO = FULL
KEYS: dict[str, DemoKey] = {
    k.handle: k
    for k in (
        FULL,
        PARTNER_PRESET,
        MISSING_SCOPE,
        HMAC,
        IP_LOCKED,
        DISABLED,
        SWITCHED_OFF,
        NEWBIE,
        NOT_PARTNER,
        QUOTA,
    )
}


def describe_keys(keys: Iterable[DemoKey]) -> list[str]:
    lines = []
    for key in keys:
        secret = f" hmac secret {key.hmac_secret}" if key.hmac_secret else ""
        lines.append(f"{key.handle:<9} token {key.token}{secret}  ({key.note})")
    return lines
