"""The PremiumExchanger pager on in-memory lists that behave like the servers seen in the wild."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.domain.errors import UnexpectedResponse
from bot.platforms.premiumexchanger.paging import SERVER_DEFAULT_LIMIT, iterate_pages


@dataclass(frozen=True)
class Row:
    id: str
    time: int


@dataclass
class ListServer:
    """Newest first; ``cap`` limits every page; ``ignore_offset`` / ``ignore_end`` drop a filter."""

    rows: list[Row]
    cap: int | None = None
    ignore_offset: bool = False
    ignore_end: bool = False
    calls: int = 0

    async def page(self, limit: int, offset: int | None, end_time: int | None) -> list[Row]:
        self.calls += 1
        rows = sorted(self.rows, key=lambda r: (r.time, r.id), reverse=True)
        if end_time is not None and not self.ignore_end:
            rows = [r for r in rows if r.time <= end_time]
        start = 0 if self.ignore_offset or offset is None else offset
        return rows[start : start + min(limit, self.cap or limit)]


def rows(n: int, per_second: int = 1) -> list[Row]:
    return [Row(str(i), 1_000 + i // per_second) for i in range(n)]


async def read(server: ListServer, **kwargs: object) -> list[Row]:
    kwargs.setdefault("page_size", 10)
    return [r async for r in iterate_pages(server.page, method="m", **kwargs)]  # type: ignore[arg-type]


async def test_offset_paging_reads_everything_once() -> None:
    server = ListServer(rows(35))
    got = await read(server)
    assert [r.id for r in got] == [str(i) for i in reversed(range(35))]
    assert server.calls == 5  # 4 pages and the empty one


async def test_short_page_ends_only_when_told() -> None:
    server = ListServer(rows(35))
    assert len(await read(server, until_empty=False)) == 35 and server.calls == 4
    capped = ListServer(rows(250), cap=SERVER_DEFAULT_LIMIT)  # asked 500, answers 100 a page
    assert len(await read(capped, page_size=500, until_empty=False)) == 250


async def test_ignored_offset_walks_back_by_end_time() -> None:
    server = ListServer(rows(95, per_second=3), ignore_offset=True)
    got = await read(server)
    assert sorted(int(r.id) for r in got) == list(range(95)) and len(got) == 95
    assert server.calls < 30


async def test_a_second_fuller_than_a_page_is_stepped_over() -> None:
    crowded = [Row(f"a{i}", 2_000) for i in range(12)] + [Row(f"b{i}", 1_999) for i in range(3)]
    server = ListServer(crowded, ignore_offset=True)
    got = await read(server)
    assert {r.id for r in got} >= {f"b{i}" for i in range(3)} and len(got) == len({r.id for r in got})


async def test_offset_and_end_time_both_ignored_is_an_error() -> None:
    server = ListServer(rows(35), ignore_offset=True, ignore_end=True)
    with pytest.raises(UnexpectedResponse) as info:
        await read(server)
    assert info.value.method == "m"


async def test_moving_rows_are_read_again_from_the_top() -> None:
    data = rows(25)
    server = ListServer(data)
    seen: list[Row] = []
    async for row in iterate_pages(server.page, page_size=10, method="m", moving=True):
        seen.append(row)
        if len(seen) == 10:  # between the first and the second page, the oldest row changes
            data[0] = Row("0", 5_000)
    assert sorted(int(r.id) for r in seen) == list(range(25))
    with_changes: list[Row] = []
    data[:] = rows(25)
    key = lambda r: (r.id, r.time)  # noqa: E731
    async for row in iterate_pages(server.page, page_size=10, method="m", moving=True, key=key):
        with_changes.append(row)
        if len(with_changes) == 3:  # a row already read changes
            data[24] = Row("24", 6_000)
    assert [r for r in with_changes if r.id == "24"] == [Row("24", 1_024), Row("24", 6_000)]


async def test_page_size_is_checked() -> None:
    with pytest.raises(ValueError):
        await read(ListServer([]), page_size=501)
