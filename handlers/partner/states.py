from aiogram.fsm.state import State, StatesGroup


class LoginStates(StatesGroup):
    field = State()  # typing a credential field (the step is in the FSM data)


class StatsStates(StatesGroup):
    custom_range = State()


class ListStates(StatesGroup):
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
