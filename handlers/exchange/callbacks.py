from __future__ import annotations

from urllib.parse import quote, unquote

from aiogram.filters.callback_data import CallbackData


class ExCb(CallbackData, prefix="x"):
    """A button of one exchange conversation. `flow` names the conversation, so a button of an
    older one is recognised and refused; `a` is the action, `v` its argument (ids, indexes) as
    :meth:`make` escaped it: a platform's ids may hold the separator (``usdt_trc20:btc``)."""

    flow: str
    a: str
    v: str = ""

    @classmethod
    def make(cls, flow: str, a: str, value: object = "") -> ExCb:
        return cls(flow=flow, a=a, v=quote(str(value), safe=""))

    @property
    def value(self) -> str:
        return unquote(self.v)


# Actions (`a`)
GIVE_PAGE, GIVE, GET_PAGE, GET, SIDE, USE_AMOUNT = "gp", "g", "tp", "t", "sd", "use"
OPTION, OPTION_PAGE, CHECK, OFFER, SKIP = "op", "opp", "ck", "of", "sk"
CONFIRM, EDIT_LIST, EDIT_FIELD, EDIT_AMOUNT, BACK = "cf", "el", "ef", "ea", "bk"
RECEIVE_MAX, RESUME = "rm", "rs"  # receive the most the exchange can pay; back to the step
OWN_USERNAME = "me"  # answer a Telegram-username field with the customer's own
