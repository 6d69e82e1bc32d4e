"""API key pairs the sandbox exchanger accepts. Printed by `exchanger-bot sandbox`; not secrets."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoKey:
    login: str
    key: str
    user_id: int
    methods: frozenset[str] | None  # None: every method
    allowed_ips: frozenset[str] | None = None  # None: any IP
    note: str = ""


ALL_METHODS = frozenset(
    {
        "test",
        "get_direction_currencies",
        "get_directions",
        "get_direction",
        "get_calc",
        "get_exchanges",
        "create_bid",
        "cancel_bid",
        "pay_bid",
        "success_bid",
        "bid_info",
        "get_partner_info",
        "get_partner_links",
        "get_partner_exchanges",
        "get_partner_payouts",
        "add_partner_payout",
    }
)

# The bot's own key: the "System" user (user_id 0), every method; partner methods answer "no partner id".
DEMO = DemoKey("demo", "demo-key-0000000000000000000000", 0, None, note="bot key, all methods")
# A partner's personal key: a real user with partner data.
PARTNER = DemoKey("partner", "partner-key-111111111111111111111", 7, None, note="partner with data")
# A real user whose key lacks the partner methods and bid methods.
RESTRICTED = DemoKey(
    "restricted",
    "restricted-key-2222222222222222222",
    8,
    frozenset({"test", "get_direction_currencies", "get_directions", "get_direction", "get_calc"}),
    note="catalogue only: other methods answer Method not supported",
)
# A real user with no partner account activity (empty lists, zero balance).
NEWBIE = DemoKey("newbie", "newbie-key-33333333333333333333333", 9, None, note="partner without data")
# A key restricted to an IP that is never ours.
IP_LOCKED = DemoKey(
    "iplocked", "iplocked-key-444444444444444444444", 10, None, frozenset({"203.0.113.7"}), "IP blocked"
)

KEYS: dict[str, DemoKey] = {k.login: k for k in (DEMO, PARTNER, RESTRICTED, NEWBIE, IP_LOCKED)}
