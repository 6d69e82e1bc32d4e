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
