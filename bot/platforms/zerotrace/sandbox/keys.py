"""Demo partner records of the 0trace sandbox: the key, the two secrets, default markup, codes."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEMO", "DISABLED", "OTHER", "PARTNERS", "Partner", "ReferenceCode"]


@dataclass
class ReferenceCode:
    code: str
    label: str | None = None
    afftax_bps: int = 0
    enabled: bool = True
    created_at: int = 0
    id: int = 0


@dataclass
class Partner:
    key: str
    secret: str
    webhook_secret: str
    note: str
    afftax_bps: int = 50  # the partner's default markup
    enabled: bool = True
    codes: dict[str, ReferenceCode] = field(default_factory=dict)
    code_cap: int = 50
    webhook_url: str | None = None  # set by the operator; no API


DEMO = Partner(
    key="zt_demo_9f2c41d8a7b3",
    secret="demo-api-secret-6b1e0c5f4a2d9e87",
    webhook_secret="demo-webhook-secret-3c8a7f1e2b9d",
    note="the bot's partner key (webhooks to the configured URL)",
    codes={"TGBOT": ReferenceCode("TGBOT", "telegram bot", 100, True, 0, 1),
           "OLDCODE": ReferenceCode("OLDCODE", "switched off", 0, False, 0, 2)},
)  # fmt: skip
OTHER = Partner(
    key="zt_other_5e6f7a8b9c0d",
    secret="other-api-secret-0a1b2c3d4e5f6071",
    webhook_secret="other-webhook-secret-8899aabbccdd",
    note="another partner (its orders are NOT_FOUND to the demo key)",
)
DISABLED = Partner(
    key="zt_off_112233445566",
    secret="off-api-secret-a1a2a3a4a5a6a7a8",
    webhook_secret="off-webhook-secret-b1b2b3b4b5b6",
    note="a partner record switched off by the operator (code 4)",
    enabled=False,
)


def fresh_partners() -> dict[str, Partner]:
    """New copies (tests change codes and secrets) keyed by apiKey."""
    from copy import deepcopy

    return {p.key: deepcopy(p) for p in (DEMO, OTHER, DISABLED)}


PARTNERS = fresh_partners()
