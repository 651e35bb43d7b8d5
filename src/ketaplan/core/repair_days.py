"""`repair --optimize`: the day model of `batch --optimize` (core.days) for plans already
booked. Enumerating each plan's repairs up front does not scale (thousands per plan on a
busy clinic), so, as for a batch, the model chooses days and the day checks place them.

Each affected plan is a chain of links, its active sessions in order (consultation,
infusions, boosters), with a column per (plan, link, day) the link may be on. A link is
*fixed* when its session is not to come (it stays, whatever happens); one not in
conflict may stay on its own day (a *resident* there), at no cost when it keeps its
place; one in conflict must move.

A plan is kept (column `kept`) when every link of it is on a day and every gap between
links is one the protocol allows; a plan not kept keeps its sessions not in conflict where
they are. Most plans kept, then the fewest sessions moved, then the fewest days moved, as
one weighted objective. Capacity rows are `core.days.master`'s over every column of a day
(a resident counted as free to take any place of its day).

The day checks (app.repair_solving) place each day's arrivals exactly, residents pinned
to their places; when they do not fit so, residents may move within the day. A day that
cannot hold its sessions even then is cut (`full`, as in a batch); one that can, with k
residents moved, tells the model so (`moves_within`, k a proven least): a session moved
within its day counts as a move, and the model's objective stays a bound."""

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
from ketaplan.core.repair import Affected, check_request, key, to_come
from ketaplan.core.times import local

Col = tuple[int, int, date]  # (plan, link, day)


class Link(NamedTuple):
    session: Session  # as booked
    element: Element  # kind, number, the gap after the link before, the days it may be on
    fixed: bool  # not to come: it stays
    stays: bool  # it may stay (fixed, or to come and not in conflict)

    def resident(self, day: date, zone: ZoneInfo) -> bool:
        """On `day`, whether it is where it was (a session to come may keep its place)."""
        return self.stays and not self.fixed and day == day_of(self, zone)


class Model(NamedTuple):
    """Columns: one `kept` per plan (0..n-1), then one per (plan, link, day), then one
    per day counting the sessions the day checks found must move within that day."""

    program: Program
    cols: dict[Col, int]
    within: dict[date, int]  # the day's column of moves within it
    chains: list[list[Link]]
    unit_plan: int  # the weight of one plan kept
    unit_move: int  # the weight of one session moved

    def values_of(self, moved: dict[int, dict[int, date]], kept: set[int], zone: ZoneInfo) -> list[float]:
        """Column values for an answer: per kept plan, the day each moved link goes to."""
        values = [0.0] * self.program.n_cols
        for r, links in enumerate(self.chains):
            values[r] = 1.0 if r in kept else 0.0
            for j, link in enumerate(links):
                to = moved.get(r, {}).get(j) if r in kept else None
                if to is None and link.stays:
                    to = day_of(link, zone)
                if to is not None:
                    values[self.cols[(r, j, to)]] = 1.0
        return values

    def answer(self, values: Sequence[float]) -> tuple[set[int], dict[tuple[int, int], date]]:
        """The plans kept, and the day each link to come is on (its own, or another)."""
        kept = {r for r in range(len(self.chains)) if values[r] > 0.5}
        on = {(r, j): d for (r, j, d), c in self.cols.items() if values[c] > 0.5 and not self.chains[r][j].fixed}
        return kept, on


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
        movable = to_come(s, now)
        go: dict[date, list[Option]] = {}
        stays = not movable or key(s) not in a.must
        if movable:
            span = [max(first, today) + timedelta(i) for i in range((last - max(first, today)).days + 1)]
            go = {d: o for d, o in avail.window(span, s.kind, placing).items() if o}
            if stays:  # its own place is one of its day's
                was, zone_start = local(s.start, zone).date(), local(s.start, zone)
                own = Option(s.start, s.end, s.resource or "", zone_start.time())
                go[was] = sorted({o.start: o for o in [own, *go.get(was, [])]}.values(), key=lambda o: o.start)
        kind = s.kind
        out.append(Link(s, Element(kind, s.number, s.of, gap, go), not movable, stays))
    return _pruned(out, zone)


def day_of(link: Link, zone: ZoneInfo) -> date:
    return local(link.session.start, zone).date()


def _pruned(chain: list[Link], zone: ZoneInfo) -> list[Link]:
    """Forward, then backward: a day stays only if a whole chain can pass through it
    (a link's own day always stays when it may stay there)."""

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
    return [  # its own day stays: a plan not kept keeps the link there
        link._replace(element=link.element._replace(days={d: o for d, o in link.element.days.items()
                                                          if d in days_of(i, keep)}))
        for i, link in enumerate(chain)
    ]  # fmt: skip


def stay_span(link: Link, turnover: timedelta) -> days.Span:
    s = link.session
    wait = timedelta(0) if s.kind == CONSULTATION else turnover
    return (s.start.astimezone(UTC), s.end.astimezone(UTC) + wait)


def master(clinic: Clinic, chains: list[list[Link]], pack: Callable[[str, list[days.Span]], int]) -> Model:
    """The day-level model of the repair (see the module's docstring)."""
    zone, n = clinic.zone, len(chains)
    turnover = timedelta(minutes=clinic.turnover_minutes)
    cols: dict[Col, int] = {}
    for r, chain in enumerate(chains):
        for j, link in enumerate(chain):
            for d in sorted(set(link.element.days) | ({day_of(link, zone)} if link.fixed else set())):
                cols[(r, j, d)] = n + len(cols)
    on_days = sorted({d for (r, j, d) in cols if not chains[r][j].fixed})
    within = {d: n + len(cols) + i for i, d in enumerate(on_days)}
    movable = sum(1 for chain in chains for link in chain if not link.fixed)
    unit_move = sum(max((abs((d - day_of(lk, zone)).days) for d in lk.element.days), default=0)
                    for chain in chains for lk in chain) + 1  # fmt: skip
    unit_plan = unit_move * (movable + 1)
    n_cols = n + len(cols) + len(within)
    cost = [float(unit_plan)] * n + [0.0] * (len(cols) + len(within))
    for (r, j, d), c in cols.items():
        link = chains[r][j]
        if not link.fixed and not link.resident(d, zone):
            cost[c] = -float(unit_move + abs((d - day_of(link, zone)).days))
    for c in within.values():
        cost[c] = -float(unit_move)
    upper = [1.0] * (n + len(cols)) + [float(movable)] * len(within)
    rows: list[Row] = []
    for r, chain in enumerate(chains):
        rows += _chain_rows(r, chain, cols, zone)
    rows += _capacity_rows(clinic, chains, cols, turnover, pack)
    return Model(Program(n_cols, n_cols, cost, upper, rows), cols, within, chains, unit_plan, unit_move)


def _chain_rows(r: int, chain: list[Link], cols: dict[Col, int], zone: ZoneInfo) -> list[Row]:
    rows: list[Row] = []
    by_day: list[list[tuple[date, int]]] = []  # each link's columns with their day
    for j, link in enumerate(chain):
        mine = sorted((d, c) for (r2, j2, d), c in cols.items() if r2 == r and j2 == j)
        by_day.append(mine)
        if link.fixed:  # it stays, kept or not
            rows.append(Row([mine[0][1]], [1.0], 1.0, 1.0))
        elif link.stays:  # on one day; a plan not kept keeps it where it was
            rows.append(Row([c for _, c in mine], [1.0] * len(mine), 1.0, 1.0))
            rows.append(Row([cols[(r, j, day_of(link, zone))], r], [1.0, 1.0], 1.0, 2.0))
        else:  # in conflict: on one day if the plan is kept
            rows.append(Row([*(c for _, c in mine), r], [1.0] * len(mine) + [-1.0], 0.0, 0.0))
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
    are at most what can be packed into it (`core.days.master`'s rows; a session on its
    own day counts as free to take any place of it: the day checks say otherwise)."""
    classes: dict[tuple[date, str], dict[frozenset[days.Span], list[int]]] = {}
    for (r, j, d), c in cols.items():
        link = chains[r][j]
        if link.fixed:
            continue  # in the past: its time is booked for everyone
        places = frozenset(days.spans_of(link.element, d, turnover))
        classes.setdefault((d, days.pool_of(link.element)), {}).setdefault(places, []).append(c)
    return days.capacity_rows(classes, pack)


def full(on: list[int], unless: list[int], fit: int) -> Row:
    """At most `fit` of the columns `on` together (sessions on one day), unless one of the
    plans `unless` is kept (a plan not kept holds its places; kept, they are free)."""
    m = float(len(on) - fit)
    return Row(on + unless, [1.0] * len(on) + [-m] * len(unless), -float(len(on)) - m * len(unless), float(fit))


def moves_within(day: int, on: list[int], unless: list[int], least: int) -> Row:
    """With all of `on` together, at least `least` of the sessions on their own day move
    within it (column `day`), unless one of the plans `unless` is kept."""
    k = float(least)
    return Row([day, *on, *unless], [1.0] + [-k] * len(on) + [k] * len(unless), -k * (len(on) - 1), 1e9)
