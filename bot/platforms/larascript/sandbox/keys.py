"""Partner keys the Lara sandbox accepts. Printed by `exchanger-bot sandbox --platform larascript`;
demo values, not secrets."""

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoKey:
    key: str
    rid: str
    note: str = ""


# A partner with a long history: several pages, several reward currencies, odd parameter values.
DEMO = DemoKey("lara-demo-key-7f3a9c2e5b1d4f60", "1101", "partner with data (~900 exchanges)")
# A second partner with a handful of exchanges (their list fits one page).
SECOND = DemoKey("lara-second-key-2b8e6d4a0c9f1e37", "2202", "partner with a few exchanges")

KEYS: dict[str, DemoKey] = {k.key: k for k in (DEMO, SECOND)}
