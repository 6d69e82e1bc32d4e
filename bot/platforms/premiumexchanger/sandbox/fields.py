"""Direction field descriptors (`give_fields`, `get_fields`, `dir_fields`) and their validation.

Serialization follows the real server: an object keyed by field name, `[]` when empty, or (for
directions with `fields_as_list`) a JSON list of the same descriptors. `req` is an int or the string
"1"/"0" per field (`req_str`). Descriptors flagged `leftovers` carry the HTML-form keys
`value`, `id`, `class`, `autocomplete` that clients must ignore.
"""

import re
from dataclasses import dataclass, field

from bot.platforms.premiumexchanger.sandbox.texts import FIELD_ERRORS, T, error_span


@dataclass(frozen=True)
class Option:
    key: str
    label: T


NO_SELECTED = Option("0", T("No selected", "Не выбрано"))


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # text | textarea | select | checkbox
    label: T
    req: bool = False
    req_str: bool = False  # serialize req as "1"/"0" instead of 1/0
    tooltip: T | None = None
    purse: bool = False  # format: "purse"
    pattern: str | None = None  # full-match regex after stripping spaces
    pattern_error: T | None = None
    options: tuple[Option, ...] = ()
    cd: bool = False
    checkbox_text: T | None = None
    checkbox_value: str = "1"
    leftovers: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def describe(self, lang: str) -> dict:
        out: dict = {"name": self.name, "type": self.type, "label": self.label(lang)}
        out["req"] = ("1" if self.req else "0") if self.req_str else int(self.req)
        if self.purse:
            out["format"] = "purse"
        if self.tooltip:
            out["tooltip"] = self.tooltip(lang)
        if self.type == "select":
            out["options"] = {o.key: o.label(lang) for o in self.options}
        if self.type == "checkbox":
            out["text"] = self.checkbox_text(lang) if self.checkbox_text else self.label(lang)
            out["value"] = self.checkbox_value
        if self.cd:
            out["cd"] = 1
        if self.leftovers:
            out.setdefault("value", "")
            out.update({"id": f"{self.name}_field", "class": "js_input", "autocomplete": "off"})
        out.update(self.extra)
        return out

    def default_option(self) -> str | None:
        for option in self.options:
            if option.key != "0":
                return option.key
        return None

    def normalize(self, raw: str) -> str:
        value = raw.strip()
        if self.purse:
            value = re.sub(r"[\s-]", "", value)
        return value

    def validate(self, raw: str | None, lang: str) -> str | None:
        """HTML error message for this field's submitted value, or None when valid."""
        value = self.normalize(raw or "")
        if self.type == "select":
            keys = {o.key for o in self.options}
            if not value or value == "0":
                return error_span(FIELD_ERRORS["select"](lang)) if self.req else None
            return None if value in keys else error_span(FIELD_ERRORS["select"](lang))
        if self.type == "checkbox":
            if value == self.checkbox_value:
                return None
            if not value and not self.req:
                return None
            return error_span(FIELD_ERRORS["checkbox"](lang))
        if not value:
            return error_span(FIELD_ERRORS["required"](lang)) if self.req else None
        if self.pattern and not re.fullmatch(self.pattern, value):
            message = self.pattern_error(lang) if self.pattern_error else FIELD_ERRORS["required"](lang)
            return error_span(message)
        return None


def serialize_fields(fields: tuple[Field, ...], lang: str, as_list: bool) -> dict | list:
    if not fields:
        return []
    if as_list:
        return [f.describe(lang) for f in fields]
    return {f.name: f.describe(lang) for f in fields}
