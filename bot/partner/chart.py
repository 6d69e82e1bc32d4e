"""A PNG chart of a period, day by day: clicks, exchanges (referred and completed) and accrued rewards.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global state), so it can run in a
worker thread: call :func:`render_chart` through ``asyncio.to_thread``. Rewards are turned into floats
for plotting only; every figure shown as text stays Decimal.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.partner.stats import PartnerStats


@dataclass(frozen=True)
class ChartLabels:
    title: str
    clicks: str
    exchanges: str
    completed: str
    rewards: str


def render_chart(stats: PartnerStats, labels: ChartLabels) -> bytes:
    days = sorted(stats.per_day)
    figures = [stats.per_day[day] for day in days]
    x = list(range(len(days)))
    fig = Figure(figsize=(9, 7), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax_clicks, ax_exchanges, ax_rewards = fig.subplots(3, 1, sharex=True)
    fig.suptitle(labels.title)

    ax_clicks.bar(x, [f.clicks for f in figures], color="#4c78a8")
    ax_clicks.set_ylabel(labels.clicks)

    ax_exchanges.bar(x, [f.exchanges for f in figures], color="#9ecae9", label=labels.exchanges)
    ax_exchanges.bar(x, [f.completed for f in figures], color="#54a24b", label=labels.completed)
    ax_exchanges.set_ylabel(labels.exchanges)
    ax_exchanges.legend(loc="upper left", fontsize="small")

    ax_rewards.plot(x, [float(f.accrued) for f in figures], color="#e45756", marker="o", markersize=3)
    ax_rewards.set_ylabel(labels.rewards)

    for ax in (ax_clicks, ax_exchanges, ax_rewards):
        ax.grid(axis="y", alpha=0.3)
        ax.set_ylim(bottom=0)
    step = max(1, len(days) // 12)
    ax_rewards.set_xticks(x[::step], [day.strftime("%m-%d") for day in days[::step]], rotation=45)

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
