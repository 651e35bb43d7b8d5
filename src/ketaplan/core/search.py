"""The day-sequence search the planner, reschedule and diagnosis share.

Days are bits of an integer (bit i = the i-th day of the stretch searched), so choosing
n days with gaps lo..hi between them is a handful of shifts and ands per gap size."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, time
from typing import Protocol

DayTest = Callable[[date], bool]


class _Clocked(Protocol):
    @property
    def clock(self) -> time: ...


def mask_of(days: Sequence[date], test: DayTest) -> int:
    """The days that pass `test`, as bits."""
    return sum(1 << i for i, d in enumerate(days) if test(d))


def day_masks(days: Sequence[date], opts: Mapping[date, Sequence[_Clocked]]) -> tuple[int, dict[time, int]]:
    """Days with any free option, and for each wall-clock start the days it is free on."""
    open_mask = 0
    by_clock: dict[time, int] = {}
    for i, d in enumerate(days):
        if opts[d]:
            open_mask |= 1 << i
        for o in opts[d]:
            by_clock[o.clock] = by_clock.get(o.clock, 0) | (1 << i)
    return open_mask, by_clock


def search_days(
    n: int,
    lo: int,
    hi: int,
    first_mask: int,
    last_mask: int,
    by_clock: dict[time, int],
    open_mask: int,
    before: int | None = None,
    after: int | None = None,
) -> tuple[tuple[object, ...], time | None, list[int]] | None:
    """The best day sequence: one clock time for all if any works, else any open days."""
    search = SequenceSearch(n, lo, hi, first_mask, last_mask, before, after)
    best: tuple[tuple[object, ...], time | None, list[int]] | None = None
    seen: set[int] = set()  # many clock times share the same days
    gap: int | None = None  # the best's largest gap
    for clock in sorted(by_clock):
        mask = by_clock[clock]
        if mask in seen:  # an earlier clock had these days: it wins any tie
            continue
        seen.add(mask)
        # The largest gap of what best() finds is the smallest cap that works, so a day
        # set needing a larger cap than the best so far cannot win: not searched.
        found = search.best(mask, gap)
        if found is not None:
            around = [x for x in (before, *found, after) if x is not None]
            key = (_max_gap_i(around), found[-1], found)
            if best is None or key < best[0]:
                best, gap = (key, clock, found), max(key[0], lo)  # no gap at all: one infusion
    if best is None:
        found = search.best(open_mask)
        if found is not None:
            best = ((), None, found)
    return best


def _max_gap_i(seq: list[int]) -> int:
    return max((b - a for a, b in zip(seq, seq[1:], strict=False)), default=0)


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class SequenceSearch:
    """Choose n days from a set (a bit mask over the window), consecutive gaps lo..hi,
    the first day allowed by `first_mask`, the last by `last_mask`: the sequence with the
    smallest largest gap, then the earliest last day, then the earliest days.

    `before`/`after`: positions of fixed days just outside the set (a reschedule's
    neighbours, which may lie before position 0); their gaps count toward the largest gap
    too, so a moved stretch is spaced evenly with what stays."""

    def __init__(
        self, n: int, lo: int, hi: int, first_mask: int, last_mask: int, before: int | None = None,
        after: int | None = None,
    ) -> None:  # fmt: skip
        self.n, self.lo, self.hi = n, lo, hi
        self.first_mask, self.last_mask = first_mask, last_mask
        self.before, self.after = before, after

    @staticmethod
    def _span(first: int, last: int) -> int:
        """Positions first..last as bits (none below 0)."""
        first = max(first, 0)
        return 0 if last < first else ((1 << (last - first + 1)) - 1) << first

    def best(self, days: int, cap_limit: int | None = None) -> list[int] | None:
        """The best sequence, or None; with `cap_limit`, only one whose gaps are at most that."""
        n, lo = self.n, self.lo
        if bin(days).count("1") < n:
            return None
        top = min(self.hi, self.hi if cap_limit is None else cap_limit)
        if top < lo:
            return None
        # A larger cap allows every sequence a smaller one does: if the largest fails,
        # all do (most day sets a full clinic leaves fail here, in one pass).
        widest = self._reach(days, top)
        if not widest[1]:
            return None
        cap = lo
        while cap < top:
            reach, ends = self._reach(days, cap)
            if ends:
                break
            cap += 1
        else:
            reach, ends = widest
        # back[k]: days for infusion k+1 from which the earliest end is still reachable
        back = [0] * n
        back[-1] = ends & -ends
        for k in range(n - 2, -1, -1):
            spread = 0
            for g in range(lo, cap + 1):
                spread |= back[k + 1] >> g
            back[k] = reach[k] & spread
        seq = [_bits(back[0])[0]]
        for k in range(1, n):
            window = 0
            for g in range(lo, cap + 1):
                window |= 1 << (seq[-1] + g)
            seq.append(_bits(back[k] & window)[0])
        return seq

    def _reach(self, days: int, cap: int) -> tuple[list[int], int]:
        """reach[k]: days that can hold infusion k+1 after a valid start (gaps lo..cap);
        and the days the last can end on."""
        lo = self.lo
        start = days & self.first_mask
        if self.before is not None:
            start &= self._span(self.before + lo, self.before + cap)
        reach = [start]
        for _ in range(self.n - 1):
            prev, spread = reach[-1], 0
            for g in range(lo, cap + 1):
                spread |= prev << g
            reach.append(days & spread)
        ends = reach[-1] & self.last_mask
        if self.after is not None:
            ends &= self._span(self.after - cap, self.after - lo)
        return reach, ends


def best_sequence(days: list[date], n: int, lo: int, hi: int, first_ok: DayTest, last_ok: DayTest) -> list[date] | None:
    """The same search on a list of dates (used by the diagnosis)."""
    if not days:
        return None
    origin = min(days)
    idx = {(d - origin).days: d for d in days}
    mask = sum(1 << i for i in idx)
    first_mask = sum(1 << i for i, d in idx.items() if first_ok(d))
    last_mask = sum(1 << i for i, d in idx.items() if last_ok(d))
    found = SequenceSearch(n, lo, hi, first_mask, last_mask).best(mask)
    return None if found is None else [idx[i] for i in found]
