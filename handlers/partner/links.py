"""/link: the referral link builder (page, UTM tags, custom parameters), QR codes and the bot deep link.

The platform builds the site link (``Platform.links``); the direction picker needs its catalogue.
"""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from segno import DataOverflowError

from bot.domain.capabilities import Capability, PlatformInfo
from bot.domain.errors import ExchangerError
from bot.domain.models import Currency, DirectionSummary
from bot.exchange.catalogue import CatalogueService
from bot.partner.account import LinkedCabinet
from bot.partner.deeplink import can_carry, deep_link, encode_payload, fit_tag
from bot.partner.links import (
    MAX_LINK_LENGTH,
    PRESETS,
    SUGGESTIONS,
    UTM_FIELDS,
    LinkDraft,
    LinkInputError,
    campaign_tag,
    check_link_length,
    clean_value,
    parse_custom_param,
    referral_link,
)
from bot.platforms.base import Platform
from bot.qr import qr_png
from bot.storage.repositories import PartnerCredentialRepository
from bot.text import shorten
from handlers.filters import TYPED_TEXT
from handlers.partner.callbacks import LinkCb, PartnerCb, PickCb
from handlers.partner.common import (
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    Cabinet,
    cabinet_of,
    chat_id_of,
    require_cabinet,
    server_text,
)
from handlers.partner.states import LinkStates
from handlers.replies import show
from handlers.upstream import upstream_error_text

PICK_PAGE = 8
LABEL_TEXT = 100  # the direction's label (currency titles from the exchanger)
BUTTON_TEXT = 40


class _Built:
    def __init__(self, site: str, bot_link: str | None, tag: str) -> None:
        self.site, self.bot_link, self.tag = site, bot_link, tag


async def _build(
    draft: LinkDraft, linked: LinkedCabinet, access: Cabinet, signing_key: bytes, bot: Bot
) -> _Built:
    links = access.platform.links
    assert links is not None  # the builder is registered only where the platform makes links
    site = referral_link(links, linked.partner_id, draft, access.site_url)
    bot_link, tag = None, ""
    # A bot deep link credits the orders a customer places in the bot: only with a customer flow.
    if access.info.has_customer_flow and can_carry(linked.partner_id):
        tag = fit_tag(linked.partner_id, campaign_tag(draft.utm.get("utm_campaign")))
        username = (await bot.me()).username
        if username:
            bot_link = deep_link(username, encode_payload(signing_key, linked.partner_id, tag))
    return _Built(site, bot_link, tag)


def _input_error(reason: str, name: str = "") -> str:
    errors = {
        "empty": _("The value is empty. Send some text."),
        "too_long": _("The value is too long: one line of at most 100 characters."),
        "format": _("Send the parameter as <code>name=value</code>; the name may use A–Z, a–z, 0–9, _ . -"),
        "reserved": _(
            "<code>{name}</code> carries your partner ID: the bot sets it and it can't be changed."
        ).format(name=escape(name)),
        "site_name": _(
            "The site would not keep the name <code>{name}</code> as it is. Use Latin letters, digits "
            "and _ only, for example <code>sub_id</code>."
        ).format(name=escape(name)),
        "utm": _("Set UTM tags with their own buttons."),
        "too_many": _("At most 5 custom parameters. Clear them to add others."),
        "link_too_long": _(
            "The link would get too long: over {limit} characters once URL-encoded (a non-Latin letter "
            "takes up to 6). Use shorter values or fewer parameters."
        ).format(limit=MAX_LINK_LENGTH),
    }
    return errors.get(reason, errors["format"])


def _builder_text(draft: LinkDraft, built: _Built) -> str:
    page = server_text(draft.direction_label, LABEL_TEXT) if draft.direction_label else _("home page")
    tags = " · ".join(f"{k}={escape(v)}" for k, v in draft.utm.items()) or _("none")
    lines = [
        _("🔗 <b>Your referral link</b>"),
        _("Page: {page}").format(page=page),
        _("UTM tags: {tags}").format(tags=tags),
    ]
    if draft.custom:
        custom = " · ".join(f"{escape(k)}={escape(v)}" for k, v in draft.custom)
        lines.append(_("Other parameters: {params}").format(params=custom))
    lines += ["", f"<code>{escape(built.site)}</code>"]
    if built.bot_link:
        lines += [
            "",
            _(
                "🤖 <b>Bot link</b>: customers who start the bot through it are credited to you "
                "(campaign tag: {tag})."
            ).format(tag=escape(built.tag) if built.tag else _("none")),
            f"<code>{escape(built.bot_link)}</code>",
        ]
    lines += ["", _("Tap a preset or a tag to change the link.")]
    return "\n".join(lines)


def _builder_keyboard(draft: LinkDraft, built: _Built, info: PlatformInfo) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    preset_labels = {
        "telegram": _("✈️ Telegram"),
        "channel": _("📣 Channel"),
        "chat": _("💬 Chat"),
        "bio": _("👤 Bio"),
    }
    for name in PRESETS:
        kb.button(text=preset_labels[name], callback_data=LinkCb(action="preset", name=name))
    for name in UTM_FIELDS:
        label = f"✓ {name}" if name in draft.utm else name
        kb.button(text=label, callback_data=LinkCb(action="field", name=name))
    kb.button(text=_("➕ Other parameter"), callback_data=LinkCb(action="custom"))
    sizes = [4, 3, 2, 1]
    if draft.custom:
        kb.button(text=_("🧹 Clear other parameters"), callback_data=LinkCb(action="reset_custom"))
        sizes.append(1)
    page_buttons = 0
    if info.serves(Capability.CATALOGUE):
        kb.button(text=_("🎯 Exchange direction…"), callback_data=PickCb())
        page_buttons += 1
    if draft.direction_id:
        kb.button(text=_("🏠 Home page"), callback_data=LinkCb(action="home"))
        page_buttons += 1
    if page_buttons:
        sizes.append(page_buttons)
    kb.button(text=_("🔳 QR: site link"), callback_data=LinkCb(action="qr"))
    if built.bot_link:
        kb.button(text=_("🔳 QR: bot link"), callback_data=LinkCb(action="qrbot"))
    kb.button(text=_("⬅️ Cabinet"), callback_data=PartnerCb(screen="home"))
    sizes += [2 if built.bot_link else 1, 1]
    kb.adjust(*sizes)
    return kb.as_markup()


async def _draft(state: FSMContext) -> LinkDraft:
    return LinkDraft.from_data((await state.get_data()).get("link"))


async def _save(state: FSMContext, draft: LinkDraft) -> None:
    await state.set_state(LinkStates.building)
    await state.update_data(link=draft.to_data())


async def _show_builder(
    event: Message | CallbackQuery,
    state: FSMContext,
    draft: LinkDraft,
    access: Cabinet,
    signing_key: bytes,
) -> None:
    """Save ``draft`` and show the builder; or, when its link would be too long, refuse it and keep the
    draft saved before (and the step the user is in). Answers a button press, once."""
    linked = await require_cabinet(event, access)
    if linked is None:
        await _answer(event)
        return
    bot = event.bot
    assert bot is not None
    built = await _build(draft, linked, access, signing_key, bot)
    try:
        check_link_length(built.site)
    except LinkInputError as exc:
        await _refuse(event, _input_error(exc.reason, exc.name))
        return
    await _answer(event)
    await _save(state, draft)
    await show(event, _builder_text(draft, built), _builder_keyboard(draft, built, access.info))


async def _answer(event: Message | CallbackQuery) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer()


async def _refuse(event: Message | CallbackQuery, text: str) -> None:
    """An input error: an alert on a button press, a message (with a way back) on a typed value."""
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    else:
        await event.answer(text, reply_markup=_back_to_builder())


async def link_command(
    event: Message | CallbackQuery,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
    link_signing_key: bytes,
) -> None:
    await state.clear()
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await _show_builder(event, state, LinkDraft(), access, link_signing_key)


async def link_action(
    callback: CallbackQuery,
    callback_data: LinkCb,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
    link_signing_key: bytes,
) -> None:
    draft = await _draft(state)
    action, name = callback_data.action, callback_data.name
    if action == "preset" and name in PRESETS:
        draft.apply_preset(name)
    elif action == "set" and name in SUGGESTIONS and 0 <= callback_data.value < len(SUGGESTIONS[name]):
        draft.set_utm(name, SUGGESTIONS[name][callback_data.value])
    elif action == "clear" and name in UTM_FIELDS:
        draft.set_utm(name, None)
    elif action == "reset_custom":
        draft.custom = []
    elif action == "home":
        draft.direction_id = draft.direction_label = draft.direction_url = None
    elif action != "show":
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await _show_builder(callback, state, draft, access, link_signing_key)


async def ask_field(callback: CallbackQuery, callback_data: LinkCb, state: FSMContext) -> None:
    name = callback_data.name
    if name not in UTM_FIELDS:
        await callback.answer(_("This button is no longer active. Send /start for a fresh menu."))
        return
    await callback.answer()
    draft = await _draft(state)
    await state.set_state(LinkStates.value)
    await state.update_data(link=draft.to_data(), field=name)
    kb = InlineKeyboardBuilder()
    for index, value in enumerate(SUGGESTIONS.get(name, ())):
        kb.button(text=value, callback_data=LinkCb(action="set", name=name, value=index))
    if name in draft.utm:
        kb.button(text=_("🧹 Clear"), callback_data=LinkCb(action="clear", name=name))
    kb.button(text=_("⬅️ Back"), callback_data=LinkCb(action="show"))
    kb.adjust(3, 1, 1)
    current = draft.utm.get(name)
    text = _("Send the value of <b>{name}</b>, or tap a suggestion.").format(name=name)
    if current:
        text += "\n" + _("Now: <code>{value}</code>").format(value=escape(current))
    await show(callback, text, kb.as_markup())


async def got_value(
    message: Message,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
    link_signing_key: bytes,
) -> None:
    data = await state.get_data()
    draft = LinkDraft.from_data(data.get("link"))
    name = data.get("field")
    try:
        if name not in UTM_FIELDS:
            raise LinkInputError("format")
        draft.set_utm(name, clean_value(message.text or ""))
    except LinkInputError as exc:
        await _refuse(message, _input_error(exc.reason, exc.name))
        return
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await _show_builder(message, state, draft, access, link_signing_key)


def _reserved(platform: Platform) -> frozenset[str]:
    return platform.links.reserved_params if platform.links is not None else frozenset()


async def ask_custom(callback: CallbackQuery, state: FSMContext, platform: Platform) -> None:
    await callback.answer()
    draft = await _draft(state)
    await state.set_state(LinkStates.custom)
    await state.update_data(link=draft.to_data())
    text = _(
        "Send a parameter to add as <code>name=value</code>, for example <code>sub_id=42</code>. "
        "Values are URL-encoded for you."
    )
    reserved = sorted(_reserved(platform))
    if reserved:
        text += " " + _("{names}: always set by the bot to your partner ID.").format(
            names=", ".join(f"<code>{escape(name)}</code>" for name in reserved)
        )
    await show(callback, text, _back_to_builder())


async def got_custom(
    message: Message,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
    link_signing_key: bytes,
) -> None:
    draft = await _draft(state)
    try:
        name, value = parse_custom_param(
            message.text or "", _reserved(platform), getattr(platform.links, "param_name_pattern", None)
        )
        draft.add_custom(name, value)
    except LinkInputError as exc:
        await _refuse(message, _input_error(exc.reason, exc.name))
        return
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    await _show_builder(message, state, draft, access, link_signing_key)


def _back_to_builder() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("⬅️ Back"), callback_data=LinkCb(action="show"))
    return kb.as_markup()


async def send_qr(
    callback: CallbackQuery,
    callback_data: LinkCb,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
    link_signing_key: bytes,
) -> None:
    access = cabinet_of(platform, partner_credentials, locale, site_url)
    linked = await require_cabinet(callback, access)
    if linked is None:
        await callback.answer()
        return
    bot = callback.bot
    assert bot is not None
    built = await _build(await _draft(state), linked, access, link_signing_key, bot)
    target = built.bot_link if callback_data.action == "qrbot" else built.site
    if not target:
        await callback.answer()
        return
    try:
        png = qr_png(check_link_length(target))
    except LinkInputError as exc:
        await callback.answer(_input_error(exc.reason, exc.name), show_alert=True)
        return
    except DataOverflowError:
        await callback.answer(
            _("The link is too long for a QR code. Use shorter values or fewer parameters."), show_alert=True
        )
        return
    await callback.answer()
    # The caption is the link itself when it fits there (it always does within MAX_LINK_LENGTH).
    caption = escape(target) if len(target) <= CAPTION_LIMIT else None
    await bot.send_photo(
        chat_id_of(callback), BufferedInputFile(png, filename="referral-qr.png"), caption=caption
    )


# -- direction picker ------------------------------------------------------------------------------


def _pager(kb: InlineKeyboardBuilder, give: str, page: int, total: int) -> int:
    buttons = 0
    if page > 0:
        kb.button(text="◀️", callback_data=PickCb(give=give, page=page - 1))
        buttons += 1
    if (page + 1) * PICK_PAGE < total:
        kb.button(text="▶️", callback_data=PickCb(give=give, page=page + 1))
        buttons += 1
    return buttons


def _give_currencies(directions: list[DirectionSummary]) -> list[Currency]:
    seen: dict[str, Currency] = {}
    for direction in directions:
        seen.setdefault(direction.give.id, direction.give)
    return list(seen.values())


def _get_options(directions: list[DirectionSummary], give: str) -> list[tuple[Currency, str]]:
    return [(d.get, d.id) for d in directions if d.give.id == give]


async def pick(
    callback: CallbackQuery,
    callback_data: PickCb,
    state: FSMContext,
    platform: Platform,
    partner_credentials: PartnerCredentialRepository,
    locale: str,
    site_url: str,
    link_signing_key: bytes,
    catalogue: CatalogueService,
) -> None:
    """``catalogue``: the customer flow's cached directions, in the chat's language."""
    give, page = callback_data.give, max(callback_data.page, 0)
    try:
        directions = await catalogue.directions(locale)
        direction = (
            await catalogue.direction(locale, callback_data.direction) if callback_data.direction else None
        )
    except ExchangerError as exc:
        await callback.answer()
        kb = InlineKeyboardBuilder()
        kb.button(text=_("🔄 Try again"), callback_data=callback_data)
        kb.button(text=_("⬅️ Back"), callback_data=LinkCb(action="show"))
        await show(callback, upstream_error_text(exc), kb.as_markup())
        return

    if direction is not None:
        draft = await _draft(state)
        summary = next((d for d in directions if d.id == direction.id), None)
        give_title = summary.give.title if summary else ""
        get_title = summary.get.title if summary else ""
        draft.direction_id = direction.id
        draft.direction_url = direction.url or None
        label = f"{give_title} → {get_title}" if give_title and get_title else direction.id
        draft.direction_label = shorten(" ".join(label.split()), LABEL_TEXT)
        access = cabinet_of(platform, partner_credentials, locale, site_url)
        await _show_builder(callback, state, draft, access, link_signing_key)
        return

    await callback.answer()
    kb = InlineKeyboardBuilder()
    if give:
        choices = [
            (c, PickCb(give=give, direction=direction_id))
            for c, direction_id in _get_options(directions, give)
        ]
        text = _("🎯 What does the customer receive?")
        back: LinkCb | PickCb = PickCb()
    else:
        choices = [(c, PickCb(give=c.id)) for c in _give_currencies(directions)]
        text = _("🎯 Link to an exchange direction. What does the customer give?")
        back = LinkCb(action="show")
    # Only what a button can carry: an id with the separator, or too long for callback data, can't be.
    choices = [(c, data) for c, data in ((c, _packed(cb)) for c, cb in choices) if data]
    total = len(choices)
    shown = choices[page * PICK_PAGE : (page + 1) * PICK_PAGE]
    for currency, data in shown:
        kb.button(text=_button_text(currency.title, currency.id), callback_data=data)
    nav = _pager(kb, give, page, total)
    kb.button(text=_("⬅️ Back"), callback_data=back)
    grid = [2] * (len(shown) // 2) + [1] * (len(shown) % 2)
    kb.adjust(*grid, *([nav] if nav else []), 1)
    await show(callback, text, kb.as_markup())


def _packed(callback_data: PickCb) -> str | None:
    try:
        data = callback_data.pack()
    except ValueError:
        return None
    return data if len(data.encode()) <= CALLBACK_DATA_LIMIT else None


def _button_text(title: str, fallback: str) -> str:
    return shorten(" ".join(title.split()), BUTTON_TEXT) or shorten(fallback, BUTTON_TEXT) or "?"


def create_router(info: PlatformInfo) -> Router:
    router = Router(name="partner-links")
    router.message.register(link_command, Command("link"))
    router.callback_query.register(link_command, PartnerCb.filter(F.screen == "link"))
    router.callback_query.register(ask_field, LinkCb.filter(F.action == "field"))
    router.callback_query.register(ask_custom, LinkCb.filter(F.action == "custom"))
    router.callback_query.register(send_qr, LinkCb.filter(F.action.in_({"qr", "qrbot"})))
    router.callback_query.register(link_action, LinkCb.filter())
    if info.serves(Capability.CATALOGUE):
        router.callback_query.register(pick, PickCb.filter())
    router.message.register(got_value, LinkStates.value, TYPED_TEXT)
    router.message.register(got_custom, LinkStates.custom, TYPED_TEXT)
    return router
