from aiogram.fsm.state import State, StatesGroup


class Exchange(StatesGroup):
    give = State()  # picking the currency to give (typing filters the list)
    get = State()  # picking the currency to receive
    amount = State()  # the direction card is shown; waiting for an amount
    field = State()  # filling the order form, one field at a time
    summary = State()  # reviewing; Confirm creates the order
