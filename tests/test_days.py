"""The day-level model of `batch --optimize` (core.days), without a solver: which sessions
are placed together, and what a first answer looks like in its columns."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from ketaplan.core.availability import Option
from ketaplan.core.days import day_groups, master, pack_program
from ketaplan.core.joint import Element

TURNOVER = timedelta(minutes=15)


def element(kind: str, starts: dict[date, list[datetime]], minutes: int = 90) -> Element:
    length = timedelta(minutes=minutes)
    days = {d: [Option(s, s + length, "Chair 1", s.time()) for s in times] for d, times in starts.items()}
    return Element(kind, 1, 1, None, days)  # type: ignore[arg-type]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def test_days_whose_sessions_could_overlap_are_placed_together() -> None:
    d1, d2, d3 = date(2027, 3, 1), date(2027, 3, 2), date(2027, 3, 3)
    late = element("infusion", {d1: [at(d1, 23)]})  # until 00:30 + turnover on the 2nd
    early = element("infusion", {d2: [at(d2, 0)]})
    noon = element("infusion", {d3: [at(d3, 12)]})
    consult = element("consultation", {d2: [at(d2, 0)]}, minutes=45)  # rooms: a pool of its own
    chains = [[late], [early], [noon], [consult]]
    chosen = {0: [(0, 0, d1)], 1: [(1, 0, d2)], 2: [(2, 0, d3)], 3: [(3, 0, d2)]}
    groups = sorted(sorted(g) for g in day_groups(chosen, chains, TURNOVER))
    assert groups == [[(0, 0, d1), (1, 0, d2)], [(2, 0, d3)], [(3, 0, d2)]]


def test_sessions_a_day_cannot_all_hold_get_a_capacity_row() -> None:
    day = date(2027, 3, 1)
    starts = [at(day, 8), at(day, 8, 30)]
    chains = [[element("infusion", {day: starts})] for _ in range(3)]
    asked: list[tuple[str, int]] = []

    def pack(pool: str, spans: list[tuple[datetime, datetime]]) -> int:
        asked.append((pool, len(spans)))
        return 1  # one chair: the two starts overlap

    m = master(chains, [3, 2, 1], TURNOVER, pack)
    assert asked == [("chairs", 2)]
    capacity = [row for row in m.program.rows if row[3] == 1.0 and row[2] == 0.0 and len(row[0]) == 3]
    assert capacity and sorted(capacity[0][0]) == sorted(m.cols[(r, 0, day)] for r in range(3))


def test_pack_program_counts_starts_held_at_once() -> None:
    day = date(2027, 3, 1)
    spans = [(at(day, h), at(day, h) + timedelta(minutes=105)) for h in (8, 9, 10)]
    program = pack_program(spans, lambda t: 2, per_start=1)
    assert program.upper == [1.0, 1.0, 1.0]
    # 09:00 overlaps 08:00; 10:00 overlaps 09:00 (08:00 is over by 09:45)
    assert sorted(sorted(r[0]) for r in program.rows) == [[0, 1], [1, 2]]
