from aiogram.filters.callback_data import CallbackData


class ExCb(CallbackData, prefix="x"):
    """A button of one exchange conversation. `flow` names the conversation, so a button of an
    older one is recognised and refused; `a` is the action, `v` its argument (ids, indexes)."""

    flow: str
    a: str
    v: str = ""


# Actions (`a`)
GIVE_PAGE, GIVE, GET, ACTION, USE_AMOUNT = "gp", "g", "t", "ac", "use"
OPTION, OPTION_PAGE, CHECK, OFFER, SKIP = "op", "opp", "ck", "of", "sk"
CONFIRM, EDIT_LIST, EDIT_FIELD, EDIT_AMOUNT, BACK = "cf", "el", "ef", "ea", "bk"
