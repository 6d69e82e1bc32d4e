"""Demo catalogue of the sandbox exchanger: currencies and exchange directions (deterministic).

Currencies (id code "English title" decimals):
  1 BTC "Bitcoin BTC" 8 · 2 ETH "Ethereum ETH" 8 · 3 USDT "Tether TRC20 USDT" 2 ·
  4 USDT "Tether ERC20 USDT" 6 · 5 RUB "Sberbank RUB" 2 · 6 RUB "Tinkoff RUB" 2 ·
  7 USD "Visa/MasterCard USD" 2 · 8 USD "Payeer USD" 2 · 9 XRP "Ripple XRP" 6
Titles are "<psys> <code>", psys localized for API-LANG ru_RU (e.g. "Сбербанк RUB").

Directions (id: give -> get; course give:get; commissions; limits give / get; fields; api_actions; outcome):
  101: BTC -> Sberbank     1:5700000; none; 0.001..2 / no..no;
       give []; get account2 card(16 digits) + cfget1 text; dir cf6 e-mail(req "1") + cf11 optional;
       actions "address" (BTC deposit address); success.
  102: Sberbank -> TRC20   95:1; get fixed 1 USDT + cd cfget2 (1 Normal +0, 2 Fast +2 USDT);
       1000..500000 / no..5000; give account1 card (HTML leftovers) + cfgive8 text;
       get account2 TRC20 (T + 33 base58) + cfget2 select cd=1; dir cf6 + cf12 checkbox;
       actions "default" (pay api, cancel api, card instruction); success.
  103: TRC20 -> Sberbank   1:92; give 0.5 %; 10..20000 / 1000..no; give []; get account2 card +
       cfget3 required select with "0" No selected; dir cf13 optional select; actions "address"; success.
  104: Tinkoff -> BTC      5800000:1; give 1 %, get fixed 0.0002 BTC + cd cfget2 (Fast +0.0003 BTC);
       5000..1000000 / 0.001..no; give account1 card + cfgive8 (req "1"); get account2 BTC address +
       cfget2; dir cf1, cf3 (req "1"), cf4 optional, cf12 checkbox; actions "link" (pay = merchant URL,
       cancel api); success.
  105: Visa/MC USD -> ERC20 1:0.97; give 2.5 %, get fixed 5 USDT; 50..5000 / 20..no; fields as a LIST;
       give account1 card + cfgive8; get account2 0x address; dir cf6 + cf20 textarea;
       actions "link"; outcome CANCEL.
  106: ETH -> Tinkoff      1:285000; none; 0.01..no / no..3000000; give []; get account2 card; dir [];
       actions "address"; outcome ERROR.
  107: XRP -> TRC20        1:0.5; none; 20..50000 / no..no; give []; get account2 TRC20; dir [];
       actions "address_tag" (deposit address + dest_tag); success.
  108: ERC20 -> TRC20      1:1; get fixed 1 USDT; all limits "no"; give/get/dir all []; actions
       "disabled" (pay and cancel "disabled"); success.
  109: BTC -> TRC20        1:60500; listed and quotable, but create_bid answers
       "Error! Direction prohibited by settings API" (api_allowed False).
  110: Tinkoff -> Payeer   96:1; get 0.5 %; 1000..300000 / no..no; give account1 card;
       get account2 Payeer (P + 7..12 digits); dir cf11 optional text + cf13 optional select;
       actions "default"; success.

Outcome rule (see bids.py): a bid follows its direction's outcome, except that a give amount whose
integer part ends in 13 ends in `error` and one ending in 66 ends in `cancel` (e.g. 10013 RUB on 102).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from bot.platforms.premiumexchanger.sandbox.fields import NO_SELECTED, Field, Option
from bot.platforms.premiumexchanger.sandbox.money import D
from bot.platforms.premiumexchanger.sandbox.texts import T


@dataclass(frozen=True)
class Currency:
    id: int
    code: str
    psys: T
    decimals: int
    usd_rate: Decimal
    reserve: Decimal
    slug: str

    def title(self, lang: str) -> str:
        return f"{self.psys(lang)} {self.code}"


@dataclass(frozen=True)
class Commission:
    percent: Decimal = Decimal(0)
    fixed: Decimal = Decimal(0)

    @property
    def empty(self) -> bool:
        return not self.percent and not self.fixed


@dataclass(frozen=True)
class Direction:
    id: int
    give_id: int
    get_id: int
    course_give: Decimal
    course_get: Decimal
    default_give: Decimal
    com_give: Commission = Commission()
    com_get: Commission = Commission()
    cd_fees: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # extra fixed get-side fee
    min_give: Decimal | None = None
    max_give: Decimal | None = None
    min_get: Decimal | None = None
    max_get: Decimal | None = None
    give_fields: tuple[Field, ...] = ()
    get_fields: tuple[Field, ...] = ()
    dir_fields: tuple[Field, ...] = ()
    fields_as_list: bool = False
    actions: str = "default"  # default | address | address_tag | link | disabled
    outcome: str = "success"  # success | cancel | error
    api_allowed: bool = True

    @property
    def give(self) -> Currency:
        return CURRENCIES[self.give_id]

    @property
    def get(self) -> Currency:
        return CURRENCIES[self.get_id]

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return self.give_fields + self.get_fields + self.dir_fields

    def path(self, site: str) -> str:
        return f"{site}/exchange_{self.give.slug}_to_{self.get.slug}/"


CURRENCIES: dict[int, Currency] = {
    c.id: c
    for c in (
        Currency(1, "BTC", T("Bitcoin", "Биткоин"), 8, D("60000"), D("3.5"), "btc"),
        Currency(2, "ETH", T("Ethereum", "Эфириум"), 8, D("3000"), D("40"), "eth"),
        Currency(3, "USDT", T("Tether TRC20", "Тезер TRC20"), 2, D(1), D("150000"), "usdttrc20"),
        Currency(4, "USDT", T("Tether ERC20", "Тезер ERC20"), 6, D(1), D("50000"), "usdterc20"),
        Currency(5, "RUB", T("Sberbank", "Сбербанк"), 2, D("0.0105"), D("5000000"), "sberbank"),
        Currency(6, "RUB", T("Tinkoff", "Тинькофф"), 2, D("0.0105"), D("3000000"), "tinkoff"),
        Currency(7, "USD", T("Visa/MasterCard", "Visa/MasterCard"), 2, D(1), D("20000"), "visamastercard"),
        Currency(8, "USD", T("Payeer", "Пайер"), 2, D(1), D("15000"), "payeer"),
        Currency(9, "XRP", T("Ripple", "Рипл"), 6, D("0.5"), D("100000"), "xrp"),
    )
}

_CARD_RE = r"\d{16}"
_CARD_ERR = T("Card number must be 16 digits", "Номер карты должен содержать 16 цифр")
_CARD_TIP = T("Card number, 16 digits", "Номер карты, 16 цифр")


def _card(name: str, label: T, leftovers: bool = False) -> Field:
    return Field(
        name,
        "text",
        label,
        req=True,
        purse=True,
        pattern=_CARD_RE,
        pattern_error=_CARD_ERR,
        tooltip=_CARD_TIP,
        leftovers=leftovers,
    )


CARD_GIVE = _card("account1", T("From card", "С карты"))
CARD_GIVE_LEFTOVERS = _card("account1", T("From card", "С карты"), leftovers=True)
CARD_GET = _card("account2", T("To card", "На карту"))
BTC_GET = Field(
    "account2",
    "text",
    T("Bitcoin address", "Адрес Bitcoin"),
    req=True,
    purse=True,
    pattern=r"(bc1[a-z0-9]{25,59}|[13][a-km-zA-HJ-NP-Z1-9]{25,34})",
    pattern_error=T("Invalid Bitcoin address", "Неверный адрес Bitcoin"),
    tooltip=T("bc1…, 1… or 3… address", "Адрес вида bc1…, 1… или 3…"),
)
TRC20_GET = Field(
    "account2",
    "text",
    T("TRC20 address", "Адрес TRC20"),
    req=True,
    purse=True,
    pattern=r"T[1-9A-HJ-NP-Za-km-z]{33}",
    pattern_error=T(
        "Invalid TRC20 address: T and 33 more characters", "Неверный адрес TRC20: T и ещё 33 символа"
    ),
    tooltip=T("Starts with T, 34 characters", "Начинается с T, 34 символа"),
)
ERC20_GET = Field(
    "account2",
    "text",
    T("ERC20 address", "Адрес ERC20"),
    req=True,
    purse=True,
    pattern=r"0x[0-9a-fA-F]{40}",
    pattern_error=T("Invalid ERC20 address", "Неверный адрес ERC20"),
)
PAYEER_GET = Field(
    "account2",
    "text",
    T("Payeer account", "Счёт Payeer"),
    req=True,
    req_str=True,
    purse=True,
    pattern=r"P\d{7,12}",
    pattern_error=T("Invalid Payeer account: P1234567", "Неверный счёт Payeer: P1234567"),
    tooltip=T("Like P1234567", "Вида P1234567"),
)
CARDHOLDER_GIVE = Field(
    "cfgive8",
    "text",
    T("Cardholder name", "Имя держателя карты"),
    req=True,
    req_str=True,
    tooltip=T("As printed on the card", "Как на карте"),
)
CARDHOLDER_GET = Field("cfget1", "text", T("Recipient's full name", "ФИО получателя"), req=True)
NETWORK_FEE = Field(
    "cfget2",
    "select",
    T("Network fee priority", "Приоритет сетевой комиссии"),
    req=True,
    cd=True,
    options=(Option("1", T("Normal", "Обычный")), Option("2", T("Fast", "Быстрый"))),
)
CARD_TYPE = Field(
    "cfget3",
    "select",
    T("Card type", "Тип карты"),
    req=True,
    req_str=True,
    options=(
        NO_SELECTED,
        Option("1", T("Visa", "Visa")),
        Option("2", T("MasterCard", "MasterCard")),
        Option("3", T("MIR", "МИР")),
    ),
)
EMAIL = Field(
    "cf6",
    "text",
    T("E-mail", "E-mail"),
    req=True,
    req_str=True,
    leftovers=True,
    pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+",
    pattern_error=T("Invalid e-mail", "Неверный e-mail"),
)
TELEGRAM = Field(
    "cf11", "text", T("Telegram", "Telegram"), req=False, req_str=True, tooltip=T("@username", "@username")
)
FIRST_NAME = Field("cf1", "text", T("First name", "Имя"), req=True, req_str=True)
LAST_NAME = Field("cf3", "text", T("Last name", "Фамилия"), req=True, req_str=True)
PHONE = Field("cf4", "text", T("Phone", "Телефон"), req=False)
AGREE = Field(
    "cf12",
    "checkbox",
    T("Agree", "Согласие"),
    req=True,
    checkbox_text=T("I agree to the AML/KYC rules", "Я согласен с правилами AML/KYC"),
)
SOURCE = Field(
    "cf13",
    "select",
    T("How did you find us?", "Как вы нас нашли?"),
    req=False,
    options=(
        NO_SELECTED,
        Option("1", T("Search engine", "Поисковик")),
        Option("2", T("Telegram", "Telegram")),
        Option("3", T("A friend", "Друг")),
    ),
)
COMMENT = Field("cf20", "textarea", T("Comment", "Комментарий"), req=False, leftovers=True)

_NET_FEE = {"1": D(0), "2": D(2)}

DIRECTIONS: dict[int, Direction] = {
    d.id: d
    for d in (
        Direction(
            101,
            1,
            5,
            D(1),
            D(5700000),
            D("0.01"),
            min_give=D("0.001"),
            max_give=D(2),
            get_fields=(CARD_GET, CARDHOLDER_GET),
            dir_fields=(EMAIL, TELEGRAM),
            actions="address",
        ),
        Direction(
            102,
            5,
            3,
            D(95),
            D(1),
            D(10000),
            com_get=Commission(fixed=D(1)),
            cd_fees={"cfget2": _NET_FEE},
            min_give=D(1000),
            max_give=D(500000),
            max_get=D(5000),
            give_fields=(CARD_GIVE_LEFTOVERS, CARDHOLDER_GIVE),
            get_fields=(TRC20_GET, NETWORK_FEE),
            dir_fields=(EMAIL, AGREE),
            actions="default",
        ),
        Direction(
            103,
            3,
            5,
            D(1),
            D(92),
            D(100),
            com_give=Commission(percent=D("0.5")),
            min_give=D(10),
            max_give=D(20000),
            min_get=D(1000),
            get_fields=(CARD_GET, CARD_TYPE),
            dir_fields=(SOURCE,),
            actions="address",
        ),
        Direction(
            104,
            6,
            1,
            D(5800000),
            D(1),
            D(58000),
            com_give=Commission(percent=D(1)),
            com_get=Commission(fixed=D("0.0002")),
            cd_fees={"cfget2": {"1": D(0), "2": D("0.0003")}},
            min_give=D(5000),
            max_give=D(1000000),
            min_get=D("0.001"),
            give_fields=(CARD_GIVE, CARDHOLDER_GIVE),
            get_fields=(BTC_GET, NETWORK_FEE),
            dir_fields=(FIRST_NAME, LAST_NAME, PHONE, AGREE),
            actions="link",
        ),
        Direction(
            105,
            7,
            4,
            D(1),
            D("0.97"),
            D(100),
            com_give=Commission(percent=D("2.5")),
            com_get=Commission(fixed=D(5)),
            min_give=D(50),
            max_give=D(5000),
            min_get=D(20),
            give_fields=(CARD_GIVE, CARDHOLDER_GIVE),
            get_fields=(ERC20_GET,),
            dir_fields=(EMAIL, COMMENT),
            fields_as_list=True,
            actions="link",
            outcome="cancel",
        ),
        Direction(
            106,
            2,
            6,
            D(1),
            D(285000),
            D("0.1"),
            min_give=D("0.01"),
            max_get=D(3000000),
            get_fields=(CARD_GET,),
            actions="address",
            outcome="error",
        ),
        Direction(
            107,
            9,
            3,
            D(1),
            D("0.5"),
            D(100),
            min_give=D(20),
            max_give=D(50000),
            get_fields=(TRC20_GET,),
            actions="address_tag",
        ),
        Direction(108, 4, 3, D(1), D(1), D(100), com_get=Commission(fixed=D(1)), actions="disabled"),
        Direction(
            109,
            1,
            3,
            D(1),
            D(60500),
            D("0.01"),
            min_give=D("0.001"),
            max_give=D(1),
            get_fields=(TRC20_GET, NETWORK_FEE),
            cd_fees={"cfget2": _NET_FEE},
            api_allowed=False,
        ),
        Direction(
            110,
            6,
            8,
            D(96),
            D(1),
            D(9600),
            com_get=Commission(percent=D("0.5")),
            min_give=D(1000),
            max_give=D(300000),
            give_fields=(CARD_GIVE,),
            get_fields=(PAYEER_GET,),
            dir_fields=(TELEGRAM, SOURCE),
            actions="default",
        ),
    )
}


def logo_url(site: str, currency: Currency) -> str:
    return f"{site}/wp-content/uploads/{currency.slug}.png"


def currency_item(site: str, currency: Currency, lang: str) -> dict:
    return {"id": currency.id, "title": currency.title(lang), "logo": logo_url(site, currency)}


def filter_directions(give_id: str | None, get_id: str | None) -> list[Direction]:
    out = []
    for direction in DIRECTIONS.values():
        if give_id and str(direction.give_id) != give_id.strip():
            continue
        if get_id and str(direction.get_id) != get_id.strip():
            continue
        out.append(direction)
    return out


def find_direction(direction_id: str | None, give_id: str | None, get_id: str | None) -> Direction | None:
    if direction_id and direction_id.strip():
        try:
            return DIRECTIONS.get(int(direction_id.strip()))
        except ValueError:
            return None
    if give_id and get_id:
        found = filter_directions(give_id, get_id)
        return found[0] if found else None
    return None


INFO_TIMELINE = T(
    "<p>The exchange {give} &rarr; {get} takes <b>5&ndash;30 minutes</b> after payment.</p>"
    "<p>Working hours: 24/7.<br>Rates are fixed for 20 minutes.</p>",
    "<p>Обмен {give} &rarr; {get} занимает <b>5&ndash;30 минут</b> после оплаты.</p>"
    "<p>Режим работы: 24/7.<br>Курс фиксируется на 20 минут.</p>",
)
INFO_FROZEN = T(
    '<p><span class="frozen">The order is frozen</span> for an AML check. Contact support.</p>',
    '<p><span class="frozen">Заявка заморожена</span> для AML-проверки. Обратитесь в поддержку.</p>',
)
INFO_BEFORE_BUTTON = T(
    '<p>By pressing the button you accept the <a href="{site}/tos/">rules</a> of the service.</p>',
    '<p>Нажимая кнопку, вы принимаете <a href="{site}/tos/">правила</a> сервиса.</p>',
)


def direction_info(site: str, direction: Direction, lang: str) -> dict:
    give, get = direction.give.title(lang), direction.get.title(lang)
    return {
        "timeline_text": INFO_TIMELINE(lang).format(give=give, get=get),
        "frozen_text": INFO_FROZEN(lang),
        "before_button_text": INFO_BEFORE_BUTTON(lang).format(site=site),
    }
