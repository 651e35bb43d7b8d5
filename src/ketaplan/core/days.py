"""`batch --optimize` in two levels: first which day each session of each request takes
(the master), then, day by day, at what time and on which chair (the day checks).

A model with a column per possible start time of every session is exact but large (70,000
columns for 150 requests on a busy clinic), and a solver cannot finish it in the time a
desk waits. Which days a request uses is what its chain rules are about; the time of day
only matters among the sessions of one day. So the master has a column per (request,
session, day) and, per day, capacity rows that any packing must keep: for each set of
start times some sessions share (all of the day's, or those after a patient's earliest
time ...), the sessions limited to that set are at most what can be packed into it (`pack`
says how many: chairs free of bookings, turnover, starts per slot).

Those rows are necessary, not sufficient: the day checks place the master's sessions of
each day exactly (`joint.build` on that day alone, then named chairs). A day that cannot
hold them yields a cut, "at most k of these sessions on that day", and the master is
solved again. When every day holds its sessions, the master's answer is a whole valid
answer, and the most requests the master can plan is the most any answer can."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ketaplan.core.joint import Element, Program, Row, chain_rows, request_weights
from ketaplan.core.model import CONSULTATION, Session

Span = tuple[datetime, datetime]  # a session's start and the end of its hold (UTC)
Key = tuple[int, int, date]  # (request, link of its chain, day)


class Master(NamedTuple):
    """Columns: one `chosen` per request (0..n-1), then one per (request, link, day)."""

    program: Program
    cols: dict[Key, int]
    unit: int  # the weight of one request: count = objective // unit
    n_requests: int

    def start_from(self, plans: dict[int, list[Session]], zone: ZoneInfo) -> list[float] | None:
        """Column values for these plans (per request position); None if one of their
        days is not the model's."""
        values = [0.0] * self.program.n_cols
        for r, sessions in plans.items():
            for j, s in enumerate(sorted(sessions, key=lambda s: s.start)):  # the chain's order is the calendar's
                col = self.cols.get((r, j, s.start.astimezone(zone).date()))
                if col is None:
                    return None
                values[col] = 1.0
            values[r] = 1.0
        return values

    def chosen(self, values: Sequence[float]) -> dict[int, list[Key]]:
        """The days the answer gives each chosen request's sessions."""
        out: dict[int, list[Key]] = {r: [] for r in range(self.n_requests) if values[r] > 0.5}
        for key, col in self.cols.items():
            if key[0] in out and values[col] > 0.5:
                out[key[0]].append(key)
        return out


def spans_of(element: Element, day: date, turnover: timedelta) -> list[Span]:
    """Where a session of `element` may go on `day`: start and end of its hold, in UTC."""
    wait = timedelta(0) if element.kind == CONSULTATION else turnover
    return [(o.start.astimezone(UTC), o.end.astimezone(UTC) + wait) for o in element.days[day]]


def pool_of(element: Element) -> str:
    return "rooms" if element.kind == CONSULTATION else "chairs"


def master(
    chains: Sequence[list[Element]],
    ranks: Sequence[int],
    turnover: timedelta,
    pack: Callable[[str, list[Span]], int],
) -> Master:
    """The day-level model. `ranks[r]` >= 1 breaks ties among answers planning as many
    requests (higher first); `pack(pool, spans)`: how many sessions with these possible
    places fit at once into the pool (chairs or rooms)."""
    n = len(chains)
    weights, unit = request_weights(ranks)
    cols: dict[Key, int] = {}
    for r, elements in enumerate(chains):
        for j, e in enumerate(elements):
            for d in sorted(e.days):
                cols[(r, j, d)] = n + len(cols)
    rows: list[Row] = []
    for r, elements in enumerate(chains):
        rows += chain_rows(r, elements, cols)
    # Per day and pool, the sessions sharing one set of possible starts, or a smaller one.
    classes: dict[tuple[date, str], dict[frozenset[Span], list[int]]] = {}
    for (r, j, d), col in cols.items():
        e = chains[r][j]
        places = frozenset(spans_of(e, d, turnover))
        classes.setdefault((d, pool_of(e)), {}).setdefault(places, []).append(col)
    rows += capacity_rows(classes, pack)
    return Master(Program(n + len(cols), n + len(cols), [float(w) for w in weights], None, rows), cols, unit, n)


def capacity_rows(
    classes: dict[tuple[date, str], dict[frozenset[Span], list[int]]], pack: Callable[[str, list[Span]], int]
) -> list[Row]:
    """Per day and pool, the columns whose places are one set, or a smaller one, are at
    most what `pack` says fits into that set at once."""
    rows: list[Row] = []
    for (_, pool), by_places in sorted(classes.items()):
        for places in by_places:
            members = [c for other, cs in by_places.items() if other <= places for c in cs]
            if len(members) > 1:
                most = pack(pool, sorted(places))
                if len(members) > most:
                    rows.append(Row(members, [1.0] * len(members), 0.0, float(most)))
    return rows


def day_groups(chosen: dict[int, list[Key]], chains: Sequence[list[Element]], turnover: timedelta) -> list[list[Key]]:
    """The chosen sessions in groups to place together: one pool, one day, or several days
    when sessions of one could overlap those of the next (a clinic open past midnight)."""
    by_day: dict[tuple[str, date], list[Key]] = {}
    for keys in chosen.values():
        for key in keys:
            by_day.setdefault((pool_of(chains[key[0]][key[1]]), key[2]), []).append(key)
    groups: list[list[Key]] = []
    for pool in ("chairs", "rooms"):
        reach: datetime | None = None
        for (p, _), keys in sorted(by_day.items()):
            if p != pool:
                continue
            spans = [s for r, j, d in keys for s in spans_of(chains[r][j], d, turnover)]
            first, last = min(s for s, _ in spans), max(e for _, e in spans)
            if reach is not None and first < reach and groups:
                groups[-1].extend(keys)
            else:
                groups.append(list(keys))
            reach = last if reach is None else max(reach, last)
    return _same_day_pairs_together(groups, chains)


def _same_day_pairs_together(groups: list[list[Key]], chains: Sequence[list[Element]]) -> list[list[Key]]:
    """A same-day consultation and its infusion 1 are placed in one group: the first must
    end before the second starts (`same_day_order`)."""
    where = {k: g for g, keys in enumerate(groups) for k in keys}
    merged = list(range(len(groups)))

    def root(g: int) -> int:
        while merged[g] != g:
            g = merged[g]
        return g

    for (r, j, d), g in where.items():
        if chains[r][j].kind == CONSULTATION and (r, j + 1, d) in where:
            merged[root(where[(r, j + 1, d)])] = root(g)
    out: dict[int, list[Key]] = {}
    for g, keys in enumerate(groups):
        out.setdefault(root(g), []).extend(keys)
    return list(out.values())


def same_day_order(group: Sequence[Key], chains: Sequence[list[Element]]) -> list[tuple[int, int]]:
    """Positions (a, b) in a group: a consultation and the infusion 1 after it on its day."""
    at = {k: i for i, k in enumerate(group)}
    return [
        (i, at[(r, j + 1, d)])
        for i, (r, j, d) in enumerate(group)
        if chains[r][j].kind == CONSULTATION and (r, j + 1, d) in at
    ]


def pack_program(spans: list[Span], free: Callable[[datetime], int], per_start: int | None) -> Program:
    """How many sessions with these possible places fit at once: a column per start time
    counting the sessions starting then, at most `free(t)` holding the pool at any
    moment t, at most `per_start` starting together."""
    starts = sorted({s for s, _ in spans})
    hold = {s: e for s, e in spans}
    upper = [float(free(s) if per_start is None else min(per_start, free(s))) for s in starts]
    rows: list[Row] = []
    for k, t in enumerate(starts):  # the most held at once is reached at some start
        covering = [i for i, s in enumerate(starts[: k + 1]) if hold[s] > t]
        if len(covering) > 1:
            rows.append(Row(covering, [1.0] * len(covering), 0.0, float(free(t))))
    return Program(len(starts), len(starts), [1.0] * len(starts), upper, rows)
