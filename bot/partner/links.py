"""Referral links: the site (or one exchange direction's page) with the partner's referral parameter
(the platform's :class:`~bot.platforms.base.ReferralLinks` adds it) and UTM and custom parameters.

The platform's reserved parameters (the one naming the partner) can't be set by hand: the builder
refuses a custom parameter of that name, whatever the platform calls it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from bot.platforms.base import ReferralLinks

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
# One-tap presets: name -> the UTM values it sets.
PRESETS: dict[str, dict[str, str]] = {
    "telegram": {"utm_source": "telegram"},
    "channel": {"utm_source": "telegram", "utm_medium": "channel"},
    "chat": {"utm_source": "telegram", "utm_medium": "chat"},
    "bio": {"utm_source": "telegram", "utm_medium": "bio"},
}
# Suggested values on each field's own screen.
SUGGESTIONS: dict[str, tuple[str, ...]] = {
    "utm_source": ("telegram",),
    "utm_medium": ("channel", "chat", "bio"),
}
MAX_VALUE_LENGTH = 100
# The whole link, URL-encoded: a Cyrillic value grows about sixfold when encoded. This keeps the link
# within a photo caption (1024), the builder message within Telegram's 4096 and the QR code readable.
MAX_LINK_LENGTH = 1000
MAX_CUSTOM_PARAMS = 5
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,40}")
TAG_LENGTH = 30


class LinkInputError(ValueError):
    def __init__(self, reason: str, name: str = "") -> None:
        super().__init__(reason)
        # "empty" | "too_long" | "format" | "site_name" | "reserved" | "utm" | "too_many" | "link_too_long"
        self.reason = reason
        self.name = name  # the parameter's name, for "reserved"


def clean_value(text: str) -> str:
    value = (text or "").strip()
    if not value:
        raise LinkInputError("empty")
    if len(value) > MAX_VALUE_LENGTH or "\n" in value:
        raise LinkInputError("too_long")
    return value


def parse_custom_param(
    text: str, reserved: Collection[str] = (), name_pattern: str | None = None
) -> tuple[str, str]:
    """``name=value`` typed by the partner. A ``reserved`` name (the platform's referral parameter) is
    refused, whatever its case; UTM names belong to their own buttons. ``name_pattern``: the names the
    platform keeps unchanged (its ``links.param_name_pattern``), checked on top of the neutral rule."""
    name, sep, value = (text or "").strip().partition("=")
    name = name.strip()
    if not sep or not _NAME.fullmatch(name):
        raise LinkInputError("format")
    if name_pattern is not None and not re.fullmatch(name_pattern, name):
        raise LinkInputError("site_name", name)
    if name.lower() in {r.lower() for r in reserved}:
        raise LinkInputError("reserved", name)
    if name.lower() in UTM_FIELDS:
        raise LinkInputError("utm")
    return name, clean_value(value)


@dataclass
class LinkDraft:
    """What the builder keeps between steps (stored as JSON in the FSM data)."""

    direction_id: str | None = None
    direction_label: str | None = None
    direction_url: str | None = None
    utm: dict[str, str] = field(default_factory=dict)
    custom: list[tuple[str, str]] = field(default_factory=list)

    def to_data(self) -> dict:
        return {
            "direction_id": self.direction_id,
            "direction_label": self.direction_label,
            "direction_url": self.direction_url,
            "utm": dict(self.utm),
            "custom": [list(pair) for pair in self.custom],
        }

    @classmethod
    def from_data(cls, data: Mapping | None) -> LinkDraft:
        data = data or {}
        return cls(
            direction_id=data.get("direction_id"),
            direction_label=data.get("direction_label"),
            direction_url=data.get("direction_url"),
            utm={k: str(v) for k, v in (data.get("utm") or {}).items() if k in UTM_FIELDS and v},
            custom=[(str(k), str(v)) for k, v in (data.get("custom") or [])][:MAX_CUSTOM_PARAMS],
        )

    def set_utm(self, name: str, value: str | None) -> None:
        if name not in UTM_FIELDS:
            raise ValueError(name)
        if value:
            self.utm[name] = clean_value(value)
        else:
            self.utm.pop(name, None)

    def apply_preset(self, name: str) -> None:
        for key, value in PRESETS[name].items():
            self.utm[key] = value

    def add_custom(self, name: str, value: str) -> None:
        others = [(k, v) for k, v in self.custom if k != name]
        if len(others) >= MAX_CUSTOM_PARAMS:
            raise LinkInputError("too_many")
        self.custom = [*others, (name, value)]


def params_of(draft: LinkDraft, reserved: Collection[str] = ()) -> dict[str, str]:
    """The link's parameters in order: UTM tags, then custom ones (never a reserved name)."""
    taken = {r.lower() for r in reserved}
    params = {name: draft.utm[name] for name in UTM_FIELDS if draft.utm.get(name)}
    for name, value in draft.custom:
        if name.lower() not in taken and name.lower() not in UTM_FIELDS:
            params[name] = value
    return params


def referral_link(links: ReferralLinks, partner_id: str, draft: LinkDraft, site_url: str) -> str:
    """The link of ``draft`` for ``partner_id``: its direction's page, or the site's root."""
    page = draft.direction_url or site_url.rstrip("/") + "/"
    return links.link(partner_id, params_of(draft, links.reserved_params), page)


def check_link_length(link: str) -> str:
    """``link``, or LinkInputError("link_too_long") when it is over ``MAX_LINK_LENGTH``."""
    if len(link) > MAX_LINK_LENGTH:
        raise LinkInputError("link_too_long")
    return link


def campaign_tag(campaign: str | None) -> str:
    """The short tag a bot deep link carries: the campaign in ``[a-z0-9_]``, or a hash of it."""
    if not campaign:
        return ""
    tag = re.sub(r"[^a-z0-9_]", "", campaign.lower().replace("-", "_"))[:TAG_LENGTH]
    if tag:
        return tag
    return "c" + hashlib.sha256(campaign.encode()).hexdigest()[:6]
