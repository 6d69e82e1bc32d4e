from aiogram.fsm.state import State, StatesGroup


class LoginStates(StatesGroup):
    login = State()
    key = State()


class StatsStates(StatesGroup):
    custom_range = State()


class ExportStates(StatesGroup):
    custom_range = State()


class WithdrawStates(StatesGroup):
    account = State()
    review = State()


class LinkStates(StatesGroup):
    building = State()
    value = State()  # typing a UTM value
    custom = State()  # typing name=value
