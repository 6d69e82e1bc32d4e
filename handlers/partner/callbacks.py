"""Callback data of the partner cabinet. All prefixes start with "pt" to stay clear of other features."""

from aiogram.filters.callback_data import CallbackData


class PartnerCb(CallbackData, prefix="pt"):
    screen: (
        str  # "home" | "stats" | "refs" | "pex" | "pay" | "wd" | "link" | "login" | "logout" | "logout_yes"
    )


class StatsCb(CallbackData, prefix="pts"):
    """A period of /stats (``p``: PeriodKind; ``a``/``b``: yyyymmdd of a custom one)."""

    action: str  # "show" | "chart" | "custom"
    p: str = "w"
    a: int = 0
    b: int = 0


class PageCb(CallbackData, prefix="ptl"):
    """A page of a list over a period (``p``/``a``/``b`` as in StatsCb; ``p`` empty: the list's default);
    action "custom" asks for dates."""

    kind: str  # "refs" | "pex" | "pay"
    page: int = 0
    p: str = ""
    a: int = 0
    b: int = 0
    action: str = "show"  # "show" | "custom"


class ExportCb(CallbackData, prefix="ptx"):
    """CSV export of ``kind`` for a period; action "choose" shows the period buttons."""

    kind: str  # "pex" | "pay"
    action: str  # "choose" | "send" | "custom"
    p: str = "w"
    a: int = 0
    b: int = 0


class WithdrawCb(CallbackData, prefix="ptw"):
    action: str  # "pick" | "confirm" | "edit"
    method: str = ""
    key: str = ""  # the request key of a reviewed request


class LinkCb(CallbackData, prefix="ptk"):
    action: str  # "show" | "field" | "set" | "clear" | "preset" | "custom" | "reset_custom" | "qr" | "qrbot"
    # | "dir" | "home" | "tag"
    name: str = ""  # a UTM field, a preset or a suggested value index
    value: int = 0


class PickCb(CallbackData, prefix="ptd"):
    """The direction picker of /link: give currencies (``give`` empty) then get currencies, paged."""

    give: str = ""
    page: int = 0
    direction: str = ""
