"""`repair --optimize`: the day model of `batch --optimize` (core.days) for plans already
booked. Enumerating each plan's repairs up front does not scale (thousands per plan on a
busy clinic), so, as for a batch, the model chooses days and the day checks place them.

Each affected plan is a chain of links, its active sessions in order (consultation,
infusions, boosters). A link is

- *fixed* when its session is not to come (it stays, whatever happens);
- one that may *stay* (not in conflict): its own column, holding its chair and time;
- one that may *go* to a day: a column per (plan, link, day), any place that day.

A plan is kept (column `kept`) when every link of it stays or goes and every gap between
links is one the protocol allows; a plan not kept keeps its sessions not in conflict (they
stay). Most plans kept, then the fewest sessions moved, then the fewest days moved, as one
weighted objective. Capacity rows are `core.days.master`'s, over the go and stay columns
of each day; the day checks place each day's moved sessions exactly, with the sessions
staying that day pinned to their chairs (app.repair_solving)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ketaplan.core import days
from ketaplan.core.availability import Availability, Option
from ketaplan.core.clinic import Clinic
from ketaplan.core.joint import Element, Program, Row
from ketaplan.core.model import BOOSTER, CONSULTATION, INFUSION, Session
from ketaplan.core.repair import Affected, check_request, key
from ketaplan.core.times import local

Col = tuple[int, int, date | None]  # (plan, link, day); day None: the link stays


class Link(NamedTuple):
    session: Session  # as booked
    element: Element  # kind, number, the gap after the link before, the days it may go to
    fixed: bool  # not to come: it stays
    stays: bool  # it may stay (fixed, or to come and not in conflict)


class Model(NamedTuple):
    """Columns: one `kept` per plan (0..n-1), then one per go or stay column."""

    program: Program
    cols: dict[Col, int]
    chains: list[list[Link]]
    unit_plan: int  # the weight of one plan kept
    unit_move: int  # the weight of one session moved

    def values_of(self, moved: dict[int, dict[int, date]], kept: set[int]) -> list[float]:
        """Column values for an answer: per kept plan, the day each moved link goes to."""
        values = [0.0] * self.program.n_cols
        for r, links in enumerate(self.chains):
            values[r] = 1.0 if r in kept else 0.0
            for j, link in enumerate(links):
                to = moved.get(r, {}).get(j) if r in kept else None
                if to is not None:
                    values[self.cols[(r, j, to)]] = 1.0
                elif link.stays:
                    values[self.cols[(r, j, None)]] = 1.0
        return values

    def answer(self, values: Sequence[float]) -> tuple[set[int], dict[tuple[int, int], date]]:
        """The plans kept, and the day each moved link of theirs goes to."""
        kept = {r for r in range(len(self.chains)) if values[r] > 0.5}
        going = {(r, j): d for (r, j, d), c in self.cols.items() if d is not None and r in kept and values[c] > 0.5}
        return kept, going


def links(clinic: Clinic, a: Affected, avail: Availability, now: datetime) -> list[Link]:
    """The plan's chain, each link with the days it may go to (places free of everyone
    else's bookings, the patient's days and times, the minimum notice)."""
    zone, p = clinic.zone, clinic.protocol
    req = check_request(clinic, a.plan, a.request)
    today = now.astimezone(zone).date()
    placing = req._replace(not_before=today, not_before_at=clinic.earliest_booking(now))
    active = a.plan.active
    consult = [s for s in active if s.kind == CONSULTATION]
    infusions = sorted((s for s in active if s.kind == INFUSION), key=lambda s: s.number)
    boosters = sorted((s for s in active if s.kind == BOOSTER), key=lambda s: s.number)
    lo_c, hi_c = p.consultation_days_before
    every, tol = p.maintenance_every_days, p.maintenance_tolerance_days
    out: list[Link] = []
    for s in consult + infusions + boosters:
        if s.kind == CONSULTATION:
            gap, first, last = None, req.first_day - timedelta(hi_c), req.last_day - timedelta(lo_c)
        elif s.kind == INFUSION:
            first, last = req.first_day, req.last_day
            if out:
                gap = (lo_c, hi_c) if out[-1].session.kind == CONSULTATION else (
                    p.min_days_apart, req.longest_gap(s.number, p.max_days_apart))  # fmt: skip
            else:
                gap = None
        else:
            gap = (every - tol, every + tol)
            first, last = (
                req.first_day + timedelta((every - tol) * s.number),
                req.last_day + timedelta((every + tol) * s.number),
            )
        to_come = s.status in ("booked", "planned") and s.start.astimezone(UTC) > now.astimezone(UTC)
        go: dict[date, list[Option]] = {}
        if to_come:
            span = [max(first, today) + timedelta(i) for i in range((last - max(first, today)).days + 1)]
            go = {d: o for d, o in avail.window(span, s.kind, placing).items() if o}
        kind = s.kind
        out.append(Link(s, Element(kind, s.number, s.of, gap, go), not to_come, not to_come or key(s) not in a.must))
    return _pruned(out, zone)


def day_of(link: Link, zone: ZoneInfo) -> date:
    return local(link.session.start, zone).date()


def _pruned(chain: list[Link], zone: ZoneInfo) -> list[Link]:
    """Forward, then backward: a go day stays only if a whole chain can pass through it
    (a link's days: where it may go, and its own day when it may stay)."""

    def days_of(i: int, keep: list[set[date]]) -> set[date]:
        return keep[i] | ({day_of(chain[i], zone)} if chain[i].stays else set())

    keep = [set(link.element.days) for link in chain]
    for j in range(1, len(chain)):
        gap = chain[j].element.gap
        if gap is not None:
            before = days_of(j - 1, keep)
            keep[j] = {d for d in keep[j] if any(gap[0] <= (d - b).days <= gap[1] for b in before)}
    for j in range(len(chain) - 2, -1, -1):
        gap = chain[j + 1].element.gap
        if gap is not None:
            after = days_of(j + 1, keep)
            keep[j] = {d for d in keep[j] if any(gap[0] <= (a - d).days <= gap[1] for a in after)}
    return [
        link._replace(element=link.element._replace(days={d: o for d, o in link.element.days.items() if d in k}))
        for link, k in zip(chain, keep, strict=True)
    ]


def stay_span(link: Link, turnover: timedelta) -> days.Span:
    s = link.session
    wait = timedelta(0) if s.kind == CONSULTATION else turnover
    return (s.start.astimezone(UTC), s.end.astimezone(UTC) + wait)


def master(clinic: Clinic, chains: list[list[Link]], pack: Callable[[str, list[days.Span]], int]) -> Model:
    """The day-level model of the repair (see the module's docstring)."""
    zone, n = clinic.zone, len(chains)
    turnover = timedelta(minutes=clinic.turnover_minutes)
    cols: dict[Col, int] = {}
    shift: dict[int, int] = {}  # a go column's days moved
    for r, chain in enumerate(chains):
        for j, link in enumerate(chain):
            if link.stays:
                cols[(r, j, None)] = n + len(cols)
            was = day_of(link, zone)
            for d in sorted(link.element.days):
                shift[n + len(cols)] = abs((d - was).days)
                cols[(r, j, d)] = n + len(cols)
    movable = sum(1 for chain in chains for link in chain if not link.fixed)
    unit_move = sum(max((abs((d - day_of(lk, zone)).days) for d in lk.element.days), default=0)
                    for chain in chains for lk in chain) + 1  # fmt: skip
    unit_plan = unit_move * (movable + 1)
    cost = [float(unit_plan)] * n + [0.0] * len(cols)
    for c, days_moved in shift.items():
        cost[c] = -float(unit_move + days_moved)
    rows: list[Row] = []
    for r, chain in enumerate(chains):
        rows += _chain_rows(r, chain, cols, zone)
    rows += _capacity_rows(clinic, chains, cols, turnover, pack)
    return Model(Program(n + len(cols), n + len(cols), cost, None, rows), cols, chains, unit_plan, unit_move)


def _chain_rows(r: int, chain: list[Link], cols: dict[Col, int], zone: ZoneInfo) -> list[Row]:
    rows: list[Row] = []
    by_day: list[list[tuple[date, int]]] = []  # each link's columns with their day
    for j, link in enumerate(chain):
        go = [(d, cols[(r, j, d)]) for d in sorted(link.element.days)]
        here = [(day_of(link, zone), cols[(r, j, None)])] if link.stays else []
        by_day.append(here + go)
        if link.fixed:  # it stays, kept or not
            rows.append(Row([cols[(r, j, None)]], [1.0], 1.0, 1.0))
        elif link.stays:  # it stays or goes somewhere; a plan not kept keeps it
            rows.append(Row([c for _, c in here + go], [1.0] * (len(go) + 1), 1.0, 1.0))
            rows.append(Row([cols[(r, j, None)], r], [1.0, 1.0], 1.0, 2.0))
        else:  # in conflict: it goes somewhere if the plan is kept
            rows.append(Row([*(c for _, c in go), r], [1.0] * len(go) + [-1.0], 0.0, 0.0))
    for j in range(1, len(chain)):
        gap = chain[j].element.gap
        if gap is None or (chain[j].fixed and chain[j - 1].fixed):
            continue
        for d, c in by_day[j]:  # kept: each column of the link needs one of the link before in reach
            before = [b for p, b in by_day[j - 1] if gap[0] <= (d - p).days <= gap[1]]
            rows.append(Row([c, r, *before], [1.0, 1.0] + [-1.0] * len(before), -float(len(before)), 1.0))
    return rows


def _capacity_rows(
    clinic: Clinic,
    chains: list[list[Link]],
    cols: dict[Col, int],
    turnover: timedelta,
    pack: Callable[[str, list[days.Span]], int],
) -> list[Row]:
    """Per day and pool, the columns sharing one set of possible places, or a smaller one,
    are at most what can be packed into it (`core.days.master`'s rows)."""
    classes: dict[tuple[date, str], dict[frozenset[days.Span], list[int]]] = {}
    for (r, j, d), c in cols.items():
        link = chains[r][j]
        if link.fixed:
            continue  # in the past: its time is booked for everyone
        pool = days.pool_of(link.element)
        if d is None:
            places = frozenset([stay_span(link, turnover)])
            d = day_of(link, clinic.zone)
        else:
            places = frozenset(days.spans_of(link.element, d, turnover))
        classes.setdefault((d, pool), {}).setdefault(places, []).append(c)
    rows: list[Row] = []
    for (_, pool), by_places in sorted(classes.items()):
        for places in by_places:
            members = [c for other, cs in by_places.items() if other <= places for c in cs]
            if len(members) > 1:
                most = pack(pool, sorted(places))
                if len(members) > most:
                    rows.append(Row(members, [1.0] * len(members), 0.0, float(most)))
    return rows


def cut(go: list[int], stay: list[int], fit: int) -> Row:
    """With all of `stay` staying on a day, at most `fit` of `go` go to it (with one of
    them moved away, the row asks nothing)."""
    m = float(len(go) - fit)
    return Row(go + stay, [1.0] * len(go) + [m] * len(stay), -1.0, len(go) + m * (len(stay) - 1))


def placing_order(chain: list[Link]) -> list[tuple[int, int]]:
    """Pairs (a, b) of links of one chain that, on one day, come in that order: a
    consultation ends before its infusion 1 starts."""
    return [(j, j + 1) for j in range(len(chain) - 1) if chain[j].session.kind == CONSULTATION]


def same_day_ok(first: Session, then: Session) -> bool:
    return first.end.astimezone(UTC) <= then.start.astimezone(UTC)
