"""Sessions placed together at times and on chairs (`batch --optimize`): the exact model
a solver reads, built from the same rules the planner keeps, and what its answer means.
`core.days` chooses the days; this model places one day's sessions (or a whole file's,
for a small one).

Each request is a chain of sessions: its consultation, its infusions, its boosters. Each
link has a day gap the protocol allows (consultation 1-14 days before infusion 1,
infusions 2-7 days apart, boosters every 28+-7 days...). Where one session may go on a
day is what `Availability.options` offers the planner: hours, grid, closures, the
patient's days and times, and no clash with bookings already made. So per-session rules
are kept by construction, chain rules by the day-linking rows, and what requests do to
each other by capacity rows:

- chairs: at every moment, the sessions holding a chair (each from its start to its end
  plus turnover) are at most the chairs that bookings leave free then;
- starts: at each start time, at most `max_starts_per_slot` infusions begin, bookings
  counted;
- consult rooms: as chairs, without turnover.

Chairs are interchangeable in the model; named chairs are given afterwards
(`assign_resources`). Intervals on identical machines with a free count at every moment
can always be given machines when no booking pins a chair; with bookings pinned to
chairs, a feasible count may still have no assignment: the day check then places that
day on named chairs (core.chairs)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from ketaplan.core.availability import Availability, Option
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import BOOSTER, CONSULTATION, INFUSION, Kind, Request, Session
from ketaplan.core.occupancy import Occupancy


class Element(NamedTuple):
    """One link of a request's chain: a session kind and number, the days gap after the
    previous link, and where it may go on each day."""

    kind: Kind
    number: int
    of: int
    gap: tuple[int, int] | None
    days: dict[date, list[Option]]


class Var(NamedTuple):
    """A possible session: request `request`, link `element`, on `day` at `option`."""

    request: int
    element: int
    day: date
    option: Option
    kind: Kind
    number: int
    of: int
    start: datetime  # UTC
    held_until: datetime  # UTC: end + turnover for a chair, end for a room


class Row(NamedTuple):
    """One constraint: lower <= sum(coefs[i] * column cols[i]) <= upper."""

    cols: list[int]
    coefs: list[float]
    lower: float
    upper: float


class Program(NamedTuple):
    """A mixed-integer program as a solver reads it, maximised: `cost[i]` for column i
    (columns past the list cost nothing), bounds 0..`upper[i]` (None: all 0..1), the
    first `n_int` columns integers."""

    n_cols: int
    n_int: int
    cost: list[float]
    upper: list[float] | None
    rows: list[Row]


class Model(NamedTuple):
    """Columns: one `chosen` column per request (0..n-1), then one per Var. Rows as
    (column indexes, coefficients, lower, upper). `weights[r]`: the objective of choosing
    request r; every other column has none."""

    n_requests: int
    vars: list[Var]
    n_days: int  # day-link columns after the Vars (continuous, 0..1)
    rows: list[Row]
    weights: list[int]
    unit: int  # the weight of one request: count = objective // unit
    day_cols: dict[tuple[int, int, date], int]  # (request, link, day) -> its column

    def program(self) -> Program:
        n_int = self.n_requests + len(self.vars)
        return Program(n_int + self.n_days, n_int, [float(w) for w in self.weights], None, self.rows)

    def column(self, var: Var) -> int:
        """The column of a possible session (the Vars follow the request columns)."""
        return self.n_requests + self.vars.index(var)


def request_weights(ranks: Sequence[int]) -> tuple[list[int], int]:
    """The objective's weight for choosing each request, and the weight of one request:
    `ranks[r]` >= 1 breaks ties among answers planning as many requests (higher first),
    and one more request always outweighs any mix of ranks. Both levels of --optimize
    (core.days, this module) weigh with it."""
    unit = sum(ranks) + 1
    return [unit + rank for rank in ranks], unit


def chain(clinic: Clinic, request: Request, avail: Availability) -> list[Element] | None:
    """The request's chain with each link's days, keeping only days that can be part of a
    whole chain; None when there is none (the request has no plan even alone)."""
    p = clinic.protocol
    window = [request.first_day + timedelta(days=i) for i in range(request.window_length)]
    elements: list[Element] = []

    def days_for(kind: str, candidates: Iterable[date]) -> dict[date, list[Option]]:
        out = {}
        for d in candidates:
            if request.not_before is not None and d < request.not_before:
                continue
            options = avail.options(d, kind, request)
            if options:
                out[d] = options
        return out

    lo_c, hi_c = p.consultation_days_before
    if request.consultation:
        first, last = window[0] - timedelta(days=hi_c), window[-1] - timedelta(days=lo_c)
        elements.append(Element(CONSULTATION, 1, 1, None, days_for(CONSULTATION, _days(first, last))))
    for k in range(1, p.infusions + 1):
        gap = (p.min_days_apart, p.max_days_apart) if k > 1 else ((lo_c, hi_c) if request.consultation else None)
        elements.append(Element(INFUSION, k, p.infusions, gap, days_for(INFUSION, window)))
    every, tol = p.maintenance_every_days, p.maintenance_tolerance_days
    for k in range(1, request.boosters + 1):
        first = window[0] + timedelta(days=(every - tol) * k)
        last = window[-1] + timedelta(days=(every + tol) * k)
        elements.append(
            Element(BOOSTER, k, request.boosters, (every - tol, every + tol), days_for(BOOSTER, _days(first, last)))
        )
    return _pruned(elements)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _linked(day: date, gap: tuple[int, int], others: Iterable[date], forward: bool) -> bool:
    lo, hi = gap
    return any(lo <= ((day - o).days if forward else (o - day).days) <= hi for o in others)


def _pruned(elements: list[Element]) -> list[Element] | None:
    """Forward, then backward: a day stays only if a whole chain can pass through it."""
    keep = [set(e.days) for e in elements]
    for j in range(1, len(elements)):
        gap = elements[j].gap
        assert gap is not None
        keep[j] = {d for d in keep[j] if _linked(d, gap, keep[j - 1], forward=True)}
    for j in range(len(elements) - 2, -1, -1):
        gap = elements[j + 1].gap
        assert gap is not None
        keep[j] = {d for d in keep[j] if _linked(d, gap, keep[j + 1], forward=False)}
    if any(not k for k in keep):
        return None
    return [e._replace(days={d: o for d, o in e.days.items() if d in k}) for e, k in zip(elements, keep, strict=True)]


def build(
    clinic: Clinic,
    chains: Sequence[list[Element] | None],
    ranks: Sequence[int],
    avail: Availability,
    before: Sequence[tuple[int, int]] = (),
) -> Model:
    """The model for these requests' chains (None: left out, it has no plan alone).
    `ranks[r]` >= 1 breaks ties among answers that plan as many requests: higher first.
    `before`: pairs (a, b) of chains whose sessions, when both are placed, come in that
    order (a same-day consultation ends before its infusion 1 starts)."""
    n = len(chains)
    weights, unit = request_weights(ranks)
    turnover = timedelta(minutes=clinic.turnover_minutes)
    vars_: list[Var] = []
    for r, elements in enumerate(chains):
        for j, e in enumerate(elements or ()):
            for day, options in sorted(e.days.items()):
                for o in options:
                    start, end = o.start.astimezone(UTC), o.end.astimezone(UTC)
                    held = end if e.kind == CONSULTATION else end + turnover
                    vars_.append(Var(r, j, day, o, e.kind, e.number, e.of, start, held))
    rows: list[Row] = []
    day_cols: dict[tuple[int, int, date], int] = {}
    by_link: dict[tuple[int, int, date], list[int]] = {}
    for i, v in enumerate(vars_):
        by_link.setdefault((v.request, v.element, v.day), []).append(n + i)
    next_col = n + len(vars_)
    for key in by_link:
        day_cols[key] = next_col
        next_col += 1
    # a day column is the sum of its sessions' columns
    for key, cols in by_link.items():
        rows.append(Row([*cols, day_cols[key]], [1.0] * len(cols) + [-1.0], 0.0, 0.0))
    for r, elements in enumerate(chains):
        if elements is None:
            rows.append(Row([r], [1.0], 0.0, 0.0))  # no plan alone: never chosen
            continue
        rows += chain_rows(r, elements, day_cols)
    rows += _capacity_rows(clinic, vars_, n, avail)
    rows += _order_rows(vars_, n, before)
    return Model(n, vars_, next_col - n - len(vars_), rows, weights, unit, day_cols)


def chain_rows(r: int, elements: list[Element], day_cols: dict[tuple[int, int, date], int]) -> list[Row]:
    """Request r's chain as rows over its day columns ((request, link, day) -> column; `r`
    is also its `chosen` column): one day per link if chosen, each a gap the protocol
    allows after a day of the link before."""
    rows: list[Row] = []
    for j, e in enumerate(elements):
        days = [day_cols[(r, j, d)] for d in sorted(e.days)]
        rows.append(Row([*days, r], [1.0] * len(days) + [-1.0], 0.0, 0.0))
        if j and e.gap is not None:
            prev = elements[j - 1]
            for d in e.days:
                before = [day_cols[(r, j - 1, p)] for p in prev.days if e.gap[0] <= (d - p).days <= e.gap[1]]
                rows.append(Row([day_cols[(r, j, d)], *before], [1.0] + [-1.0] * len(before), -1.0, 0.0))
    return rows


def _order_rows(vars_: list[Var], n: int, before: Sequence[tuple[int, int]]) -> list[Row]:
    """For each place of b: it, or one of a's places that ends after it starts (at most
    one of a's is taken, so the row is exact)."""
    rows: list[Row] = []
    for a, b in before:
        firsts = [(n + i, v.option.end.astimezone(UTC)) for i, v in enumerate(vars_) if v.request == a]
        for i, v in enumerate(vars_):
            if v.request == b:
                late = [col for col, end in firsts if end > v.start]
                if late:
                    rows.append(Row([n + i, *late], [1.0] * (len(late) + 1), 0.0, 1.0))
    return rows


def _capacity_rows(clinic: Clinic, vars_: list[Var], n: int, avail: Availability) -> list[Row]:
    occ = avail.occupancy
    turnover = occ.turnover
    rows: list[Row] = []
    for pool, kinds, gap in ((clinic.chairs, (INFUSION, BOOSTER), turnover), (clinic.rooms, (CONSULTATION,), None)):
        mine = [(i, v) for i, v in enumerate(vars_) if v.kind in kinds]
        if not mine:
            continue
        wait = gap or timedelta(0)
        lo = min(v.start for _, v in mine) - timedelta(days=1)
        hi = max(v.held_until for _, v in mine) + timedelta(days=1)
        held = [(s, e + wait) for res in pool for s, e in occ.held_between(res, lo, hi)]
        # The most sessions at once are reached at some session's start: count there.
        points = sorted({v.start for _, v in mine} | {s for s, _ in held if lo <= s <= hi})
        covering: dict[int, list[int]] = {}
        for i, v in mine:
            a, b = bisect_left(points, v.start), bisect_left(points, v.held_until)
            for k in range(a, b):
                covering.setdefault(k, []).append(n + i)
        for k, cols in covering.items():
            free = free_at(occ, pool, wait, points[k])
            if len(cols) > free:
                rows.append(Row(cols, [1.0] * len(cols), 0.0, float(max(free, 0))))
        if gap is not None:  # infusion starts per slot
            starting: dict[datetime, list[int]] = {}
            for i, v in mine:
                starting.setdefault(v.start, []).append(n + i)
            for t, cols in starting.items():
                room = clinic.starts_per_slot - occ.starts_at(t)
                if len(cols) > room:
                    rows.append(Row(cols, [1.0] * len(cols), 0.0, float(max(room, 0))))
    return rows


def free_at(occ: Occupancy, pool: Sequence[str], wait: timedelta, t: datetime) -> int:
    """How many of the pool's chairs (or rooms) no booking holds at `t` (UTC), each booking
    held `wait` (turnover) past its end."""
    step = timedelta(microseconds=1)
    taken = {res for res in pool for s, e in occ.held_between(res, t, t + step) if s <= t < e + wait}
    return len(pool) - len(taken)


def witness(model: Model, values: Sequence[float]) -> dict[int, list[Var]]:
    """The sessions the solver chose, per chosen request."""
    chosen = {r for r in range(model.n_requests) if values[r] > 0.5}
    out: dict[int, list[Var]] = {r: [] for r in sorted(chosen)}
    for i, v in enumerate(model.vars):
        if v.request in chosen and values[model.n_requests + i] > 0.5:
            out[v.request].append(v)
    return out


def assign_resources(
    clinic: Clinic, chosen: dict[int, list[Var]], avail: Availability, limit: int = 200_000
) -> tuple[dict[int, list[Session]], list[Var]]:
    """Named chairs and rooms for the chosen sessions, around the bookings already held.
    Returns the sessions per request, or, when a group of overlapping sessions has no
    assignment, that group (the caller then places the day on named chairs, core.chairs)."""
    occ = avail.occupancy
    done: dict[tuple[int, int], str] = {}
    for pool, kinds in ((clinic.chairs, (INFUSION, BOOSTER)), (clinic.rooms, (CONSULTATION,))):
        wait = occ.turnover if kinds[0] != CONSULTATION else timedelta(0)
        items = sorted((v for vs in chosen.values() for v in vs if v.kind in kinds), key=lambda v: (v.start, v.request))
        for group in _overlapping_groups(items):
            lo, hi = group[0].start - timedelta(days=1), max(v.held_until for v in group) + timedelta(days=1)
            fixed = {res: [(s, e + wait) for s, e in occ.held_between(res, lo, hi)] for res in pool}
            found = _assign(group, list(pool), fixed, limit)
            if found is None:
                return {}, group
            for v, res in zip(group, found, strict=True):
                done[(v.request, v.element)] = res
    sessions = {
        r: [Session(v.kind, v.number, v.of, v.option.start, v.option.end, done[(r, v.element)]) for v in vs]
        for r, vs in chosen.items()
    }
    return sessions, []


def _overlapping_groups(items: list[Var]) -> list[list[Var]]:
    """Sessions (sorted by start) split where none before reaches the next: each group is
    given resources on its own."""
    groups: list[list[Var]] = []
    reach = datetime.min.replace(tzinfo=UTC)
    for v in items:
        if groups and v.start < reach:
            groups[-1].append(v)
        else:
            groups.append([v])
        reach = max(reach, v.held_until)
    return groups


def _assign(
    group: list[Var], pool: list[str], fixed: dict[str, list[tuple[datetime, datetime]]], limit: int
) -> list[str] | None:
    """A resource for each session (sorted by start) with no two overlapping on one: the
    lowest free first, backtracking when a later one has none; None when there is no way
    (or, past `limit` steps, none found)."""
    placed: dict[str, list[tuple[datetime, datetime]]] = {res: [] for res in pool}
    out: list[str] = []
    steps = 0

    def free(res: str, s: datetime, e: datetime) -> bool:
        return not any(a < e and s < b for a, b in fixed[res]) and not any(a < e and s < b for a, b in placed[res])

    def go(i: int) -> bool:
        nonlocal steps
        if i == len(group):
            return True
        steps += 1
        if steps > limit:
            return False
        v = group[i]
        for res in pool:
            if free(res, v.start, v.held_until):
                placed[res].append((v.start, v.held_until))
                out.append(res)
                if go(i + 1):
                    return True
                placed[res].pop()
                out.pop()
        return False

    return out if go(0) else None
