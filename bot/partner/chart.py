"""A PNG chart of a period, day by day: clicks, exchanges (referred and completed) and accrued rewards.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global state), so it can run in a
worker thread: call :func:`render_chart` through ``asyncio.to_thread``. Rewards are turned into floats
for plotting only; every figure shown as text stays Decimal.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bot.domain.money import format_amount
from bot.partner.stats import PartnerStats


@dataclass(frozen=True)
class ChartLabels:
    title: str
    clicks: str
    exchanges: str
    completed: str
    rewards: str


def _tick(value: float, _position: object) -> str:
    try:
        return format_amount(Decimal(f"{value:.10g}"), "")
    except ValueError:  # not finite
        return ""


def render_chart(stats: PartnerStats, labels: ChartLabels) -> bytes:
    """Clicks, exchanges and rewards per day; only the figures the platform serves."""
    days = sorted(stats.per_day)
    figures = [stats.per_day[day] for day in days]
    x = list(range(len(days)))
    # Rewards are drawn only in one currency: amounts of several can't share an axis.
    currencies = stats.reward_currencies
    rewards = stats.has_exchanges and len(currencies) <= 1
    code = currencies[0] if currencies else ""
    panels = int(stats.has_clicks) + int(stats.has_exchanges) + int(rewards)
    fig = Figure(figsize=(9, 2.5 + 1.5 * panels), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = list(fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0])
    fig.suptitle(labels.title)

    if stats.has_clicks:
        ax_clicks = axes.pop(0)
        ax_clicks.bar(x, [f.clicks for f in figures], color="#4c78a8")
        ax_clicks.set_ylabel(labels.clicks)
    if stats.has_exchanges:
        ax_exchanges = axes.pop(0)
        ax_exchanges.bar(x, [f.exchanges for f in figures], color="#9ecae9", label=labels.exchanges)
        ax_exchanges.bar(x, [f.completed for f in figures], color="#54a24b", label=labels.completed)
        ax_exchanges.set_ylabel(labels.exchanges)
        ax_exchanges.legend(loc="upper left", fontsize="small")
    if rewards:
        ax_rewards = axes.pop(0)
        daily = [float(f.accrued.get(code, 0)) for f in figures]
        ax_rewards.plot(x, daily, color="#e45756", marker="o", markersize=3)
        ax_rewards.set_ylabel(f"{labels.rewards}, {code}" if code else labels.rewards)

    every = fig.axes
    # Axis numbers written as amounts are, in the chat's language (the locale travels into to_thread).
    ticks = FuncFormatter(_tick)
    for ax in every:
        ax.yaxis.set_major_formatter(ticks)
        ax.grid(axis="y", alpha=0.3)
        ax.set_ylim(bottom=0)
    step = max(1, len(days) // 12)
    every[-1].set_xticks(x[::step], [day.strftime("%m-%d") for day in days[::step]], rotation=45)

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
