"""PremiumExchanger wire level: payload parsing and the error table, on literal JSON taken from the
reference page (the adapter reads the same shapes over HTTP in test_premiumexchanger_recorded.py)."""

import json
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from bot.domain import errors
from bot.domain.models import ActionMode, FieldOption, PayoutStatus
from bot.platforms.premiumexchanger import wire
from bot.platforms.premiumexchanger.models import ApiCredentials, FieldType, OrderRequest
from bot.platforms.premiumexchanger.statuses import is_final_code
from bot.platforms.premiumexchanger.transport import (
    _parse_envelope,
    encode_cd,
    error_from_envelope,
    to_api_locale,
)


def loads(text: str):
    return json.loads(text, parse_float=Decimal)


FIELDS = """{
 "account1": {"name":"account1","type":"text","label":"From account","req":1,"format":"purse",
              "tooltip":"Card number, 16 digits"},
 "cfgive3":  {"name":"cfgive3","type":"select","label":"Bank","req":"1",
              "options":{"0":"No selected","1":"Sber","2":"Tinkoff"}},
 "cf6":      {"name":"cf6","type":"text","label":"E-mail","req":0},
 "cf12":     {"name":"cf12","type":"checkbox","label":"Agree","text":"I agree to the rules",
              "value":"1","req":1},
 "cfget2":   {"name":"cfget2","type":"select","label":"Network fee priority","req":1,"cd":1,
              "options":{"1":"Normal","2":"Fast"}},
 "cf20":     {"name":"cf20","type":"date","label":"Birthday","req":"0","id":"x","class":"y",
              "autocomplete":"off"}
}"""

DIRECTION = (
    """{"id": 12, "url": "https://ex.test/exchange_SBERRUB_to_USDTTRC20/", "currency_code_give": "RUB",
 "currency_code_get": "USDT", "reserve": "50000.5", "course_give": 95, "course_get": "1",
 "sum_give": "1000", "sum_give_com": 1010.5, "sum_get": "10.52", "sum_get_com": "10.52",
 "com_give": "<span class=\\"c\\">1%</span>", "com_get": "", "min_give": "no", "max_give": "500000",
 "min_get": 10, "max_get": "no",
 "give_fields": """
    + FIELDS
    + """, "get_fields": [], "dir_fields": [],
 "info": {"timeline_text": "<p>5-30 min</p>", "frozen_text": "", "before_button_text": "<br>Check it"},
 "extra_unknown": {"x": 1}}"""
)


def test_direction_with_every_field_kind():
    d = wire.parse_direction(loads(DIRECTION))
    assert d.id == "12"
    assert d.reserve == Decimal("50000.5")
    assert d.give_rate == Decimal(95)
    assert d.give_amount_with_commission == Decimal("1010.5")
    assert isinstance(d.give_amount_with_commission, Decimal)
    assert d.min_give is None and d.max_get is None
    assert d.max_give == Decimal(500000) and d.min_get == Decimal(10)
    assert d.give_commission_text == '<span class="c">1%</span>'
    assert d.info.timeline_text == "<p>5-30 min</p>"
    assert d.get_fields == [] and d.dir_fields == []
    by_name = {f.name: f for f in d.fields}
    assert list(by_name) == ["account1", "cfgive3", "cf6", "cf12", "cfget2", "cf20"]
    account = by_name["account1"]
    assert (account.type, account.required, account.format) == (FieldType.TEXT, True, "purse")
    assert account.tooltip == "Card number, 16 digits"
    bank = by_name["cfgive3"]
    assert bank.type is FieldType.SELECT and bank.required
    assert bank.options == [
        FieldOption("0", "No selected"),
        FieldOption("1", "Sber"),
        FieldOption("2", "Tinkoff"),
    ]
    assert by_name["cf6"].required is False
    agree = by_name["cf12"]
    assert (agree.type, agree.checkbox_text, agree.checkbox_value) == (
        FieldType.CHECKBOX,
        "I agree to the rules",
        "1",
    )
    assert by_name["cfget2"].changes_price and not bank.changes_price
    assert [f.name for f in d.price_fields] == ["cfget2"]
    assert by_name["cf20"].type is FieldType.TEXT  # unknown types are text


def test_fields_as_list_and_options_as_php_list():
    fields = wire.parse_fields(
        loads(
            '[{"name":"account2","type":"TEXTAREA","label":"To","req":"0"},'
            '{"name":"cfget1","type":"select","label":"Net","req":1,'
            '"options":["No selected","TRC20","ERC20"]}]'
        )
    )
    assert [f.name for f in fields] == ["account2", "cfget1"]
    assert fields[0].type is FieldType.TEXTAREA
    assert fields[1].options[1] == FieldOption("1", "TRC20")
    assert wire.parse_fields([]) == [] and wire.parse_fields({}) == []


def test_quote():
    q = wire.parse_quote(
        loads(
            '{"currency_code_give":"RUB","currency_code_get":"BTC","reserve":"1.5","course_give":"6500000",'
            '"course_get":1,"sum_give":"10000","sum_give_com":"10100","sum_get":0.00153846,'
            '"sum_get_com":"0.00153846","com_give":"","com_get":"","min_give":"no","max_give":"no",'
            '"min_get":"no","max_get":"no","changed":"1"}'
        )
    )
    assert q.changed is True
    assert q.get_amount == Decimal("0.00153846")
    assert q.min_give is None


def test_float_never_accepted():
    with pytest.raises(ValidationError):
        wire.parse_quote({"course_give": 1.5, "course_get": "1"})


BID = """{"url":"https://ex.test/hst_a1b2/","id":1234,"hash":"a1b2","status":"new",
 "status_title":"Accepted, waiting to be paid","psys_give":"Sber","psys_get":"Tether TRC20",
 "currency_code_give":"RUB","currency_code_get":"USDT","amount_give":"10000","amount_get":"105.2",
 "course_give":"95","course_get":"1",
 "api_actions":{"type":"default","cancel":"api","pay":"https://ex.test/pay/1234","pay_amount":"10000",
                "instruction":"<p>Send exactly 10000 RUB to card 2200 ...</p>","address":"","dest_tag":""}}"""


def test_order():
    o = wire.parse_order(loads(BID))
    assert (o.id, o.hash, o.status) == ("1234", "a1b2", "new")
    assert o.get_amount == Decimal("105.2") and o.give_rate == Decimal(95)
    assert o.actions.cancel.mode is ActionMode.API
    assert o.actions.pay.mode is ActionMode.LINK and o.actions.pay.url == "https://ex.test/pay/1234"
    assert o.actions.instruction.startswith("<p>")
    assert o.actions.address is None and o.actions.dest_tag is None
    assert o.actions.pay_amount == Decimal(10000)
    assert not o.is_final
    finished = wire.parse_order({**loads(BID), "status": "success", "api_actions": []})
    assert finished.actions.cancel.mode is ActionMode.DISABLED and finished.is_final


def test_order_records_and_exchange_success():
    data = loads(
        '{"items":[{"id":"5","api_id":"77","time":"1700000000","date":"2023-11-14 22:13:20",'
        '"psys_give":"Sber","psys_get":"BTC","currency_code_give":"RUB","currency_code_get":"BTC","course_give":"6500000",'
        '"course_get":"1","amount_give":"10000","amount_get":"0.0015","exchange_success":1,"user_hash":"h",'
        '"user_ip":"1.2.3.4","status":"success","hash":"abc",'
        '"statuses":[{"time":1699999000,"date":"d","status":"new"},{"time":"1700000000","date":"d",'
        '"status":"success"}]},'
        '{"id":6,"api_id":"","time":1700000001,"date":"","exchange_success":"0","status":"weird"}]}'
    )
    first, second = wire.parse_order_records(data)
    assert first.succeeded is True and first.api_id == "77" and first.time == 1700000000
    assert [s.status for s in first.status_history] == ["new", "success"]
    assert second.succeeded is False and second.api_id is None and not second.is_final
    assert wire.parse_order_records([]) == []
    assert wire.parse_order_records({"items": []}) == []


def test_partner_payloads():
    info = wire.parse_partner_info(
        loads(
            '{"partner_id":7,"balance":"12.5","min_payout":"10",'
            '"items":[{"id":3,"title":"USDT TRC20","comission":"2%","amount":"12.25"}]}'
        )
    )
    assert info.balance == Decimal("12.5") and info.items[0].commission == "2%"
    assert info.items[0].amount == Decimal("12.25")
    empty = wire.parse_partner_info({"partner_id": 9, "balance": 0, "min_payout": "10", "items": []})
    assert empty.items == [] and empty.balance == 0

    clicks = wire.parse_partner_clicks(
        {"items": [{"id": 1, "time": 1, "date": "d", "browser": "UA", "ip": "1.1.1.1", "referrer": "",
                    "user_hash": "u", "query_string": "rid=7&utm_source=tg"}]}
    )  # fmt: skip
    assert clicks[0].query_string == "rid=7&utm_source=tg"

    exchanges = wire.parse_partner_exchanges(
        {"items": [{"id": 1, "time": 1, "status": "success", "exchange_success": "1", "accrued": "1",
                    "partner_reward": "0.35"}]}
    )  # fmt: skip
    assert exchanges[0].accrued and exchanges[0].partner_reward == Decimal("0.35")

    payouts = wire.parse_partner_payouts(
        {"items": [{"id": i, "time": 1, "status": s, "pay_amount": "10", "original_amount": 10}
                   for i, s in enumerate(["0", 1, "2", "3", "9"])]}
    )  # fmt: skip
    assert [p.status for p in payouts] == [
        PayoutStatus.PENDING,
        PayoutStatus.PAID,
        PayoutStatus.REFUSED,
        PayoutStatus.CANCELLED,
        PayoutStatus.UNKNOWN,
    ]
    assert wire.parse_payout_id({"payout_id": 15}) == "15"


def test_identity_and_catalogue():
    me = wire.parse_identity({"ip": "127.0.0.1", "user_id": 0, "locale": "ru_RU", "partner_id": 0})
    assert me.is_system_user and me.partner_id is None
    lists = wire.parse_currency_lists({"give": [{"id": 1, "title": "Sber RUB", "logo": "x"}], "get": []})
    assert lists.give[0].id == "1" and lists.get == []
    dirs = wire.parse_direction_summaries(
        [{"direction_id": "3", "currency_give_id": 1, "currency_give_title": "A", "currency_give_logo": "",
          "currency_get_id": 2, "currency_get_title": "B", "currency_get_logo": ""}]
    )  # fmt: skip
    assert dirs[0].id == "3" and dirs[0].give.title == "A" and dirs[0].get.id == "2"
    assert wire.parse_direction_summaries([]) == []


def test_status_codes():
    assert wire.parse_status_code("cancel") == "cancel"
    for code in ("success", "cancel", "delete", "error", "SUCCESS"):
        assert is_final_code(code)
    for code in ("new", "payed", "coldsuccess", "my_custom", "", None):
        assert not is_final_code(code)


def env(code: str | int, text: str) -> str:
    return json.dumps({"error": code, "error_text": text, "data": []})


def _response(body: str | bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=body.encode() if isinstance(body, str) else body)


@pytest.mark.parametrize(
    ("method", "payload", "expected"),
    [
        ("test", env("1", "Api disabled"), errors.CredentialsRejected),
        ("test", env("2", "IP blocked"), errors.IpNotAllowed),
        ("test", env("2", "Maintenance"), errors.Maintenance),
        ("get_calc", env("2", "Техническое обслуживание"), errors.Maintenance),
        ("bid_info", env("2", "Back at 5 pm, sorry!"), errors.Maintenance),
        ("create_bid", env(2, "We are upgrading the site"), errors.Maintenance),
        ("get_calc", env("2", "Back at 5 pm, sorry!"), errors.Maintenance),
        ("get_directions", env("2", "Something else"), errors.ApiError),
        ("cancel_bid", env("2", "IP blocked"), errors.IpNotAllowed),
        ("get_exchanges", env("1", "Empty Response"), errors.UnexpectedResponse),
        ("pay_bid", env("2", "action disabled"), errors.ActionNotAllowed),
        ("bid_info", env("3", "Method not supported"), errors.PermissionMissing),
        ("get_direction", env("1", "Direction not found"), errors.DirectionUnavailable),
        (
            "create_bid",
            env("1", "Error! Direction prohibited by settings API"),
            errors.DirectionProhibited,
        ),
        ("bid_info", env("1", "no bid exists"), errors.OrderNotFound),
        ("get_partner_info", env("1", "no partner id"), errors.NotAPartner),
        (
            "get_partner_info",
            env("1", "No active partner program"),
            errors.PartnerProgramOff,
        ),
        ("create_bid", env("1", "api id not unique"), errors.IdempotencyConflict),
        ("add_partner_payout", env("1", "Minimum amount"), errors.PayoutRefused),
        ("get_calc", env("5", "Something else"), errors.ApiError),
    ],
)
def test_error_table(method, payload, expected):
    with pytest.raises(expected) as info:
        _parse_envelope(method, _response(payload), ())
    assert info.value.method == method
    assert method in str(info.value)


def test_unavailable_grouping():
    for cls in (
        errors.CredentialsRejected,
        errors.IpNotAllowed,
        errors.Maintenance,
        errors.PermissionMissing,
        errors.UnexpectedResponse,
        errors.TransportError,
        errors.ExchangerTimeout,
    ):
        assert issubclass(cls, errors.ExchangerUnavailable)
    for cls in (
        errors.OrderNotFound,
        errors.ValidationFailed,
        errors.IdempotencyConflict,
        errors.ActionNotAllowed,
        errors.DirectionUnavailable,  # the customer chooses another direction: not "unavailable"
        errors.DirectionProhibited,
    ):
        assert not issubclass(cls, errors.ExchangerUnavailable)
    assert issubclass(errors.DirectionProhibited, errors.DirectionUnavailable)


def test_maintenance_keeps_the_sites_text():
    exc = error_from_envelope("pay_bid", "2", {"error": "2", "error_text": "Техническое обслуживание"})
    assert isinstance(exc, errors.Maintenance) and exc.text == "Техническое обслуживание"
    custom = error_from_envelope("bid_info", "2", {"error": 2, "error_text": "Back at <b>5</b>"})
    assert isinstance(custom, errors.Maintenance) and custom.text == "Back at <b>5</b>"
    disabled = error_from_envelope("pay_bid", "2", {"error": "2", "error_text": "action disabled"})
    assert isinstance(disabled, errors.ActionNotAllowed)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Payout amount is less than minimum", "minimum"),
        ("payout method not found", "method"),
        ("account is empty", "account"),
        ("Сумма выплаты меньше минимальной", "minimum"),
        ("Something the owner wrote", None),
    ],
)
def test_payout_refusals_carry_a_neutral_reason(text, reason):
    exc = error_from_envelope("add_partner_payout", "1", {"error": "1", "error_text": text})
    assert isinstance(exc, errors.PayoutRefused) and exc.reason == reason and exc.text == text


def test_empty_response_is_a_clear_error():
    exc = error_from_envelope("bid_info", "1", {"error": "1", "error_text": "Empty Response"})
    assert isinstance(exc, errors.UnexpectedResponse) and not exc.transient
    assert "Empty Response" in str(exc) and "not available" in str(exc)


def test_direction_with_empty_data_is_unavailable():
    for empty in ([], {}, None):
        with pytest.raises(errors.DirectionUnavailable) as info:
            wire.parse_direction(empty)
        assert info.value.method == "get_direction"
        assert not isinstance(info.value, errors.ExchangerUnavailable)


def test_click_without_id_gets_a_stable_one():
    item = {"time": 1700000000, "date": "d", "browser": "UA", "ip": "1.1.1.1", "referrer": "",
            "user_hash": "u", "query_string": "rid=7"}  # fmt: skip
    first = wire.parse_partner_clicks({"items": [item, {**item, "ip": "2.2.2.2"}]})
    again = wire.parse_partner_clicks({"items": [dict(item)]})
    assert first[0].id == again[0].id and first[0].id != first[1].id and first[0].id
    assert wire.parse_partner_clicks({"items": [{**item, "id": 12}]})[0].id == "12"


def test_validation_error_keeps_html_fields():
    payload = loads(
        '{"error":"3","error_text":"Error!","error_fields":{"account2":"<span>Invalid wallet</span>",'
        '"sum1":"min 1000"},"data":[]}'
    )
    exc = error_from_envelope("create_bid", "3", payload)
    assert isinstance(exc, errors.ValidationFailed)
    assert exc.field_errors == {"account2": "<span>Invalid wallet</span>", "sum1": "min 1000"}
    assert exc.text == "Error!"


def test_envelope_success_and_odd_bodies():
    assert _parse_envelope("test", _response('{"error":0,"error_text":"","data":{"a":1}}'), ()) == {"a": 1}
    assert _parse_envelope("x", _response('\ufeff {"error":"0","data":[]}'), ()) == []
    amount = _parse_envelope("x", _response('{"error":"0","data":{"v":0.1}}'), ())["v"]
    assert amount == Decimal("0.1") and isinstance(amount, Decimal)

    with pytest.raises(errors.UnexpectedResponse) as info:
        _parse_envelope("get_directions", _response("<html><title>502 Bad Gateway</title>oops</html>"), ())
    assert info.value.transient and "502 Bad Gateway" in info.value.snippet
    with pytest.raises(errors.UnexpectedResponse) as info:
        _parse_envelope("test", _response("secret-key leaked <b>x</b>", 502), ("secret-key",))
    assert info.value.status_code == 502 and "secret-key" not in str(info.value)
    with pytest.raises(errors.UnexpectedResponse) as info:
        _parse_envelope("test", _response("[1, 2]"), ())
    assert not info.value.transient


def test_cd_round_trip_through_form_and_server_decoding():
    from urllib.parse import parse_qs, unquote, unquote_plus, urlencode

    values = {"cfget2": "a&b=c d", "cf7": "Иван Петров+1", "cf9": "100%"}
    cd = encode_cd(values)
    body = urlencode({"cd": cd})  # what httpx puts on the wire
    received = parse_qs(body)["cd"][0]  # the server's form decoding
    for url_decode in (unquote, unquote_plus):  # PHP urldecode, or a stricter one
        parsed = {k: v[0] for k, v in parse_qs(url_decode(received), keep_blank_values=True).items()}
        assert parsed == values


def test_locales():
    assert to_api_locale("ru") == "ru_RU"
    assert to_api_locale("en") == "en_US"
    assert to_api_locale("uk_UA") == "uk_UA"
    assert to_api_locale("en-us") == "en_US"
    assert to_api_locale(None) is None
    assert to_api_locale("xx") is None


def test_credentials_and_request_hide_secrets():
    creds = ApiCredentials(login="bot", key=SecretStr("very-secret-key"))
    assert "very-secret-key" not in repr(creds) and "very-secret-key" not in str(creds)
    request = OrderRequest(
        direction_id=1,
        amount="100",
        fields={"account2": "TXYZ-wallet"},
        callback_url="https://bot.test/cb/s3cr3t",
    )
    assert "TXYZ-wallet" not in repr(request) and "s3cr3t" not in repr(request)
    with pytest.raises(ValidationError):
        OrderRequest(direction_id=1, amount=1.5)
