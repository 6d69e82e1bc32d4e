"""Order forms the sandbox accepts, shared by the tests that create orders directly."""

# Sberbank RUB -> Tether TRC20 (direction 102): every field of its form, valid.
FIELDS_102 = {
    "account1": "2200 7001 2345 6789",
    "cfgive8": "IVAN PETROV",
    "account2": "T" + "9" * 33,
    "cfget2": "1",
    "cf6": "client@example.com",
    "cf12": "1",
}
# The same as create_bid form data, for 10 000 RUB.
FORM_102 = {"direction_id": "102", "calc_amount": "10000", "calc_action": "1", **FIELDS_102}

CARD = "4276380012345678"
# Valid forms (without direction_id / calc_action) of every direction that takes orders.
FORMS: dict[int, dict[str, str]] = {
    101: {"calc_amount": "0.01", "account2": CARD, "cfget1": "Ivan Petrov", "cf6": "a@b.cc"},
    102: FORM_102,
    103: {"calc_amount": "100", "account2": CARD, "cfget3": "3"},
    104: {
        "calc_amount": "58000",
        "account1": CARD,
        "cfgive8": "IVAN",
        "account2": "bc1q" + "a" * 38,
        "cfget2": "2",
        "cf1": "Ivan",
        "cf3": "Petrov",
        "cf12": "1",
    },
    105: {
        "calc_amount": "100",
        "account1": CARD,
        "cfgive8": "IVAN",
        "account2": "0x" + "ab" * 20,
        "cf6": "a@b.cc",
    },
    106: {"calc_amount": "0.1", "account2": CARD},
    107: {"calc_amount": "100", "account2": "T" + "9" * 33},
    108: {"calc_amount": "100"},
    110: {"calc_amount": "9600", "account1": CARD, "account2": "P1234567"},
}


def order_fields(direction_id: int) -> dict[str, str]:
    """A direction's valid form as neutral ``OrderRequest.fields`` (the form without the amount)."""
    return {
        k: v
        for k, v in FORMS[direction_id].items()
        if k not in ("direction_id", "calc_amount", "calc_action")
    }
