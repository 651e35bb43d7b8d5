"""`batch --optimize` against an optimum found by brute force, on small random clinics:
DST weeks, split days, turnover, consultations and bookings already in the ledger. The
count --optimize plans must equal the brute-force optimum, and every plan it makes must
pass every named check against all the others."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from helpers import make_clinic, write_clinic
from ketaplan.app import optimize, solving
from ketaplan.app.batch import Settings
from ketaplan.app.booking import plan_and_book
from ketaplan.core import checks, joint
from ketaplan.core.availability import Availability
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import Patient, Plan, Request, Session
from ketaplan.core.requests import RequestFields
from ketaplan.formats.batch_file import Row
from ketaplan.store.sqlite_ledger import SqliteLedger

pytest.importorskip("highspy", reason="the optimize extra (pip install -e '.[test]')")

TODAY = date(2026, 12, 1)
WEEKS = {  # Monday of a week with a DST change in it, or none
    "America/New_York": date(2027, 3, 8),  # clocks go forward on Sunday 14 March
    "Europe/Berlin": date(2027, 10, 25),  # clocks go back on Sunday 31 October
    "Asia/Kolkata": date(2027, 2, 1),
}


TIMES = {"any": (None, None), "late": ("08:30", None), "early": (None, "09:30")}


def tiny_clinic(
    zone: str, chairs: int, starts: int, turnover: int, split: bool, consult: bool, same_day: bool = False
) -> Clinic:
    hours = ["08:00-09:30", "12:00-13:00"] if split else ["08:00-09:30"]
    return make_clinic(
        timezone=zone,
        chairs=chairs,
        max_starts_per_slot=starts,
        slot_minutes=30,
        turnover_minutes=turnover,
        consult_rooms=1,
        hours={d: hours for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        protocol={
            "infusions": 2,
            "window_days": [2, 3],
            "min_days_apart": 1,
            "max_days_apart": 2,
            "session_minutes": 60,
            "consultation": consult,
            "consultation_minutes": 30,
            "consultation_days_before": [0 if same_day else 1, 1],
        },
    )


def all_plans(clinic: Clinic, request: Request, avail: Availability) -> list[Plan]:
    """Every plan of the request alone that passes every named check (by enumeration)."""
    p, zone = clinic.protocol, clinic.zone
    days = [request.first_day + timedelta(days=i) for i in range(request.window_length)]
    before = [request.first_day - timedelta(days=1)]
    clocks = [clock(h, m) for h in range(7, 15) for m in (0, 30)]

    def sessions(kind: str, day_list: list[date], minutes: int, pool: tuple[str, ...]) -> list[Session]:
        """Single sessions that pass the per-session rules (a speed-up only: each whole
        plan is still judged by every named check below)."""
        out = []
        for d in day_list:
            for c in clocks:
                start = datetime.combine(d, c, tzinfo=zone)
                end = start + timedelta(minutes=minutes)
                if checks.hours_problem(clinic, start, end) or checks.grid_problem(clinic, start):
                    continue
                res = next(
                    (
                        r
                        for r in pool
                        if not (
                            checks.room_problem(clinic, avail.occupancy, r, start, end)
                            if kind == "consultation"
                            else checks.chair_problem(clinic, avail.occupancy, r, start, end)
                        )
                    ),
                    None,
                )
                if res is not None:  # which chair, when several are free, is decided together below
                    out.append(Session(kind, 1, 1, start, end, res))  # type: ignore[arg-type]  # a Kind
        return out

    infusions = sessions("infusion", days, p.session_minutes, clinic.chairs)
    consults = (
        sessions("consultation", before + days, p.consultation_minutes, clinic.rooms) if p.consultation else [None]
    )
    ctx = checks.CheckContext(clinic, request, avail.occupancy, p.consultation, 0)
    found = []
    for a, b in itertools.combinations(sorted(infusions, key=lambda s: s.start), 2):
        if not 1 <= (b.start.date() - a.start.date()).days <= 2:
            continue  # the spacing rule would refuse it (speed-up only, as above)
        for c in consults:
            if c is not None and not p.consultation_days_before[0] <= (a.start.date() - c.start.date()).days <= 1:
                continue
            series = [a._replace(number=1, of=2), b._replace(number=2, of=2)] + ([c] if c else [])
            plan = Plan("KP-X", request.patient, clinic.name, clinic.timezone, request.first_day, request.last_day,
                        tuple(series))  # fmt: skip
            if all(r.ok for r in checks.run_checks(plan, ctx)):
                found.append(plan)
    return found


def most_together(clinic: Clinic, options: list[list[Plan]], avail: Availability) -> int:
    """The most requests whose plans fit together, by trying every combination; a
    combination fits when its sessions can be given chairs and rooms around the bookings
    (tried every way) and no slot has too many infusion starts."""
    turnover = timedelta(minutes=clinic.turnover_minutes)
    lo, hi = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    fixed = {
        res: [(s, e + (timedelta(0) if res in clinic.rooms else turnover))
              for s, e in avail.occupancy.held_between(res, lo, hi)]
        for res in clinic.chairs + clinic.rooms
    }  # fmt: skip

    def placeable(sessions: list[Session]) -> bool:
        items = sorted(
            (s.start.astimezone(UTC), s.end.astimezone(UTC) + (timedelta(0) if s.kind == "consultation" else turnover),
             clinic.rooms if s.kind == "consultation" else clinic.chairs)
            for s in sessions
        )  # fmt: skip
        taken: dict[str, list[tuple[datetime, datetime]]] = {r: list(v) for r, v in fixed.items()}

        def go(i: int) -> bool:
            if i == len(items):
                return True
            s, e, pool = items[i]
            for res in pool:
                if not any(a < e and s < b for a, b in taken[res]):
                    taken[res].append((s, e))
                    if go(i + 1):
                        return True
                    taken[res].pop()
            return False

        return go(0)

    def starts_ok(sessions: list[Session]) -> bool:
        count: dict[datetime, int] = {}
        for s in sessions:
            if s.kind != "consultation":
                t = s.start.astimezone(UTC)
                count[t] = count.get(t, 0) + 1
        return all(avail.occupancy.starts_at(t) + n <= clinic.starts_per_slot for t, n in count.items())

    def extend(rest: tuple[int, ...], sessions: list[Session]) -> bool:
        if not rest:
            return True
        for plan in options[rest[0]]:
            more = sessions + list(plan.sessions)
            if starts_ok(more) and placeable(more) and extend(rest[1:], more):
                return True
        return False

    for size in range(len(options), 0, -1):
        if any(extend(subset, []) for subset in itertools.combinations(range(len(options)), size)):
            return size
    return 0


instances = st.fixed_dictionaries(
    {
        "zone": st.sampled_from(sorted(WEEKS)),
        "chairs": st.integers(1, 2),
        "starts": st.integers(1, 2),
        "turnover": st.sampled_from([0, 30]),
        "split": st.booleans(),
        "consult": st.booleans(),
        "same day": st.booleans(),  # the consultation may be on infusion 1's day, before it
        # (first day, window length, patient's times): times make sessions of one day
        # compete for different starts, which the day-level master cannot see alone
        "requests": st.lists(
            st.tuples(st.integers(0, 3), st.integers(2, 3), st.sampled_from(list(TIMES))), min_size=2, max_size=4
        ),
        "booked": st.lists(st.integers(0, 4), max_size=2),
        "cuts only": st.booleans(),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(instance=instances)
# Found by this test: HiGHS, given first come's answer as a start, handed that start back
# when presolve ended the search (1 planned where 2 fit).
@example(
    instance={"zone": "America/New_York", "chairs": 1, "starts": 1, "turnover": 0, "split": True, "consult": True,
              "same day": False, "requests": [(1, 3, "any"), (0, 2, "any")], "booked": [0], "cuts only": False}
)  # fmt: skip
# Same-day consultations, one room and one chair: each must end before its infusion 1.
@example(
    instance={"zone": "Europe/Berlin", "chairs": 1, "starts": 1, "turnover": 0, "split": False, "consult": True,
              "same day": True, "requests": [(0, 2, "any"), (0, 2, "any"), (0, 3, "any")], "booked": [],
              "cuts only": False}
)  # fmt: skip
def test_optimize_plans_as_many_as_brute_force(tmp_path_factory: pytest.TempPathFactory, instance: dict) -> None:
    if instance["same day"]:  # many more plans per request: the brute force stays small with 3
        instance = {**instance, "requests": instance["requests"][:3]}
    clinic = tiny_clinic(
        instance["zone"], instance["chairs"], instance["starts"], instance["turnover"], instance["split"],
        instance["consult"], instance["same day"],
    )  # fmt: skip
    monday = WEEKS[instance["zone"]]
    ledger = SqliteLedger(tmp_path_factory.mktemp("opt") / "l.sqlite3")
    with ledger.write():
        pass  # a new ledger
    for k, offset in enumerate(instance["booked"]):  # bookings already made, first come
        first = monday + timedelta(days=offset)
        req = Request(
            Patient(f"Booked {k}"), first, first + timedelta(days=2), consultation=clinic.protocol.consultation
        )
        try:
            plan_and_book(clinic, req, ledger, dry_run=False)
        except Exception:  # noqa: BLE001 - no plan: nothing booked, fine
            pass
    rows = []
    for k, (offset, length, times) in enumerate(instance["requests"]):
        first = monday + timedelta(days=offset)
        end = first + timedelta(days=length - 1)
        earliest, latest = TIMES[times]
        fields = RequestFields(
            f"P{k}", first.isoformat(), end=end.isoformat(), earliest=earliest, latest=latest,
            consultation=clinic.protocol.consultation,
        )  # fmt: skip
        rows.append(Row(k + 2, f"q{k}", fields, None))
    span = (
        datetime.combine(monday - timedelta(days=7), clock(0), tzinfo=clinic.zone),
        datetime.combine(monday + timedelta(days=21), clock(0), tzinfo=clinic.zone),
    )
    with ledger.read() as tx:
        base = tx.bookings(clinic.name, *span, clinic.zone)
    avail = Availability(clinic, base, span=span)
    options = []
    for k, (offset, length, times) in enumerate(instance["requests"]):
        first = monday + timedelta(days=offset)
        lo, hi = (None if t is None else clock.fromisoformat(t) for t in TIMES[times])
        req = Request(
            Patient(f"P{k}"), first, first + timedelta(days=length - 1), consultation=clinic.protocol.consultation,
            earliest=lo, latest=hi,
        )  # fmt: skip
        options.append(all_plans(clinic, req, avail))
    optimum = most_together(clinic, options, avail)

    told: list[optimize.Outcome] = []
    said: list[str] = []
    # Without the master's day capacity rows, every day's capacity is learnt from the
    # day checks' cuts alone: the cut loop must still reach the optimum.
    packer = (
        (lambda clinic, avail, deadline, solver: lambda pool, spans: 10**6) if instance["cuts only"] else solving.packer
    )
    with mock.patch.object(solving, "packer", packer):
        counts, summary = optimize.run(
            Settings(clinic, TODAY, span), ledger, iter(rows), told.append, time_limit=30, gap=0, say=said.append
        )
    event("a day could not hold the master's sessions: cut" if any("cut" in x for x in said) else "no cut")
    planned = [o.plan for o in told if o.status == "ok" and o.plan is not None]
    assert len(planned) == optimum == counts["ok"], (optimum, [(o.status, o.error) for o in told])
    assert summary.proven and summary.bound == optimum
    # ... and the solver found it itself, not the first-come pass over rows it left out
    assert optimum == 0 or f"solver: {optimum} requests planned" in " ".join(said)
    for plan in planned:  # every named check, against the ledger and every other plan
        with ledger.read() as tx:
            loaded, request = tx.load_plan(plan.plan_id)
            others = [b for b in tx.bookings(clinic.name, *span, clinic.zone) if b.plan_id != plan.plan_id]
        ctx = checks.CheckContext(clinic, request, Availability(clinic, others, span=span).occupancy,
                                  clinic.protocol.consultation, 0)  # fmt: skip
        failed = [r for r in checks.run_checks(loaded, ctx) if not r.ok]
        assert not failed, failed


def one_session_a_day(tmp_path: Path, window: list[int], gap: int) -> Path:
    """One chair open 08:00-09:00 on weekdays; two 60-minute infusions, 1..gap days apart."""
    return write_clinic(
        tmp_path / "c.toml",
        chairs=1,
        max_starts_per_slot=1,
        slot_minutes=60,
        hours={d: ["08:00-09:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        protocol={"infusions": 2, "window_days": window, "min_days_apart": 1, "max_days_apart": gap,
                  "session_minutes": 60, "consultation": False},
    )  # fmt: skip


CONGESTED = """patient,start,end,days,priority
A,2027-02-01,2027-02-03,,
B,2027-02-01,2027-02-03,"mon,wed",
C,2027-02-02,2027-02-04,"tue,thu",
"""


def test_the_cli_plans_more_than_first_come_and_says_why_a_row_is_left_out(cli, tmp_path: Path) -> None:
    """One chair, one session a day (08:00). First come gives A (any of Mon-Wed) Mon+Tue,
    which leaves B (Mon/Wed only) and C (Tue/Thu only) nothing: 1 planned. Together, two
    fit: A or B on Mon+Wed, and C on Tue+Thu; the earlier line, A, gets the tie."""
    clinic = one_session_a_day(tmp_path, window=[2, 3], gap=2)
    rows = tmp_path / "rows.csv"
    rows.write_text(CONGESTED, encoding="utf-8")
    first = cli("batch", rows, "--clinic", clinic, "--dry-run")
    joint = cli("batch", rows, "--clinic", clinic, "--optimize")
    docs = [json.loads(x) for x in joint.stdout.splitlines()]
    assert sum(json.loads(x)["status"] == "ok" for x in first.stdout.splitlines()) == 1
    assert [d["status"] for d in docs] == ["ok", "infeasible", "ok"] and joint.exit_code == 3
    assert "lines 2, 4" in docs[1]["data"]["explanation"][0]
    assert "no answer plans more (proven" in joint.stderr
    # A priority breaks the tie the other way: B, not A, beside C.
    rows.write_text(CONGESTED.replace('"mon,wed",', '"mon,wed",9'), encoding="utf-8")
    again = cli("batch", rows, "--clinic", clinic, "--optimize", "--ledger", tmp_path / "other.sqlite3")
    assert [json.loads(x)["status"] for x in again.stdout.splitlines()] == ["infeasible", "ok", "ok"]


def test_priority_breaks_a_tie(cli, tmp_path: Path) -> None:
    clinic = one_session_a_day(tmp_path, window=[2, 2], gap=1)
    rows = tmp_path / "rows.csv"
    rows.write_text("patient,start,priority\nA,2027-02-01,\nB,2027-02-01,5\n", encoding="utf-8")
    docs = [json.loads(x) for x in cli("batch", rows, "--clinic", clinic, "--optimize").stdout.splitlines()]
    assert [d["status"] for d in docs] == ["infeasible", "ok"]  # one fits; B's priority wins
    rows.write_text("patient,start,priority\nA,2027-02-01,\nB,2027-02-01,\n", encoding="utf-8")
    docs = [
        json.loads(x)
        for x in cli(
            "batch", rows, "--clinic", clinic, "--optimize", "--ledger", tmp_path / "b.sqlite3"
        ).stdout.splitlines()
    ]
    assert [d["status"] for d in docs] == ["ok", "infeasible"]  # no priority: the earlier line


def test_without_the_extra_optimize_says_how_to_install(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("patient,start\nA,2027-02-01\n", encoding="utf-8")
    code = (
        "import sys; sys.modules['highspy'] = None\n"
        "from ketaplan.cli import main\n"
        f"main(['batch', {str(rows)!r}, '--optimize', '--ledger', {str(tmp_path / 'l.sqlite3')!r}])"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 2 and "pip install 'ketaplan[optimize]'" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def market_split(m: int = 4, n: int = 34, seed: int = 1) -> joint.Program:
    """A small model no MILP solver settles in minutes (Cornuéjols and Dawande's market split)."""
    import random

    rnd = random.Random(seed)
    rows = []
    for _ in range(m):
        a = [rnd.randrange(100) for _ in range(n)]
        rows.append(joint.Row(list(range(n)), [float(x) for x in a], float(sum(a) // 2), float(sum(a) // 2)))
    return joint.Program(n, n, [1.0] * n, None, rows)


def test_the_time_limit_holds_for_every_sub_model(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each capacity sub-model once had 60 s of its own whatever --time-limit said: here
    every one of them is a model HiGHS cannot settle, and the whole run still ends within
    2 s of its limit, with the first-come answer at least (here the day checks, exact
    models, still find and prove the optimum: the weak rows only cost time)."""
    from ketaplan.core import days

    hard: list[int] = []

    def pack_program(*args: object) -> joint.Program:
        hard.append(1)
        return market_split()

    monkeypatch.setattr(days, "pack_program", pack_program)
    clinic = one_session_a_day(tmp_path, window=[2, 3], gap=2)
    rows = tmp_path / "rows.csv"
    rows.write_text(CONGESTED, encoding="utf-8")
    started = time.monotonic()
    r = cli("batch", rows, "--clinic", clinic, "--optimize", "--time-limit", "2")
    took = time.monotonic() - started
    assert hard, "no capacity sub-model was built: the test proves nothing"
    assert took < 4.0, f"--time-limit 2 took {took:.1f} s"
    statuses = [json.loads(x)["status"] for x in r.stdout.splitlines()]
    assert statuses.count("ok") >= 1 and "solver time limit 2 s" in r.stderr, r.stderr


def test_a_same_day_consultation_ends_before_infusion_1_when_planned_jointly(cli, tmp_path: Path) -> None:
    """One chair (two 60-minute infusions a morning, 08:00 and 09:00) and one room; the
    consultation only on infusion 1's day, before it. A and B both start on Monday:
    both consultations fit (08:00, 08:30) and both infusions fit, but only the 09:00
    infusion comes after a consultation, so only one of them can start that day."""
    clinic = write_clinic(
        tmp_path / "c.toml",
        chairs=1,
        consult_rooms=1,
        max_starts_per_slot=1,
        slot_minutes=30,
        turnover_minutes=0,
        hours={d: ["08:00-10:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        protocol={"infusions": 2, "window_days": [2, 2], "min_days_apart": 1, "max_days_apart": 1,
                  "session_minutes": 60, "consultation": True, "consultation_minutes": 30,
                  "consultation_days_before": [0, 0]},
    )  # fmt: skip
    rows = tmp_path / "rows.csv"
    rows.write_text("patient,start\nA,2027-02-01\nB,2027-02-01\n", encoding="utf-8")
    ledger = tmp_path / "l.sqlite3"
    result = cli("batch", rows, "--clinic", clinic, "--optimize", "--ledger", ledger)
    docs = [json.loads(x) for x in result.stdout.splitlines()]
    assert [d["status"] for d in docs] == ["ok", "infeasible"], result.output
    sessions = {f"{s['kind']} {s['number']}": s for s in docs[0]["data"]["sessions"]}
    consult, first = sessions["consultation 1"], sessions["infusion 1"]
    assert consult["start"][:10] == first["start"][:10] == "2027-02-01"
    assert consult["end"] <= first["start"]


def month_of_referrals(tmp_path: Path) -> tuple[Path, Path]:
    """150 requests over 60 days on 2 chairs: about twice what the chairs hold; HiGHS
    proves the count in about 8 s here and does not settle the ties within a minute."""
    clinic = write_clinic(tmp_path / "c.toml", chairs=2, max_starts_per_slot=1, consult_rooms=1,
                          hours={d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu", "fri")})  # fmt: skip
    rows = tmp_path / "rows.csv"
    first = date(2027, 2, 1)
    rows.write_text(
        "request_id,patient,start,weeks\n"
        + "".join(f"R{i},Patient {i},{first + timedelta(days=i % 60)},{2 + i % 2}\n" for i in range(150)),
        encoding="utf-8",
    )
    return clinic, rows


def test_a_proven_count_gives_the_ties_only_their_own_budget(cli, tmp_path: Path) -> None:
    """The ties once took whatever was left of --time-limit: a proven count still kept
    the run (and, then, the desks) for the whole limit. Now they get --tie-limit."""
    clinic, rows = month_of_referrals(tmp_path)
    started = time.monotonic()
    r = cli("batch", rows, "--clinic", clinic, "--optimize", "--dry-run", "--time-limit", "90", "--tie-limit", "1")
    took = time.monotonic() - started
    assert "no answer plans more (proven after" in r.stderr, r.stderr
    assert took < 45, f"{took:.0f} s with the count proven and --tie-limit 1"
    assert "(--tie-limit)" in r.stderr or "ties of priority and line proven too" in r.stderr


def test_cp_sat_plans_what_highs_plans(cli, tmp_path: Path) -> None:
    """--solver cpsat on the day model: the same proven answer and the same tie as HiGHS."""
    clinic = one_session_a_day(tmp_path, window=[2, 3], gap=2)
    rows = tmp_path / "rows.csv"
    rows.write_text(CONGESTED, encoding="utf-8")
    answers = {}
    for solver in ("highs", "cpsat"):
        r = cli("batch", rows, "--clinic", clinic, "--optimize", "--dry-run", "--solver", solver)
        answers[solver] = [json.loads(x)["status"] for x in r.stdout.splitlines()]
        assert "no answer plans more (proven" in r.stderr, r.stderr
    assert answers["cpsat"] == answers["highs"] == ["ok", "infeasible", "ok"]
    bad = cli("batch", rows, "--clinic", clinic, "--optimize", "--solver", "gurobi")
    assert bad.exit_code == 2 and "--solver" in bad.stderr


@pytest.mark.usefixtures("backend")
def test_a_desk_books_while_optimize_solves_and_nothing_is_overbooked(tmp_path: Path, ledger_path: Path | str) -> None:
    """`batch --optimize` solves on a snapshot without the write lock: `schedule` at another
    desk books within seconds meanwhile, and what the solver chose that clashes with it
    is planned again before booking. Read back from the ledger itself: no chair, start
    slot or room over capacity. (With the lock held through the solve, the desk waited for
    all of it: this test failed there.)"""
    from helpers import capacity_violations, query

    clinic, rows = month_of_referrals(tmp_path)
    first = date(2027, 2, 1)
    base = [sys.executable, "-m", "ketaplan"]
    where = ["--clinic", str(clinic), "--ledger", str(ledger_path)]
    solving = subprocess.Popen([*base, "batch", str(rows), "--optimize", "--time-limit", "25", *where],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert solving.stderr is not None
    for line in solving.stderr:  # the model is being solved
        if "model:" in line:
            break
    started = time.monotonic()
    desk = subprocess.run([*base, "schedule", "--patient", "Walk In", "--start", str(first), "--weeks", "3",
                           "--json", *where], capture_output=True, text=True, timeout=120)  # fmt: skip
    waited = time.monotonic() - started
    out, err = solving.communicate(timeout=300)
    assert waited < 10, f"the desk waited {waited:.1f} s for the solver"
    assert desk.returncode == 0, desk.stdout + desk.stderr  # booked first: the solver's answer gives way
    assert solving.returncode in (0, 3), err
    assert solving.poll() is not None and "Traceback" not in err
    assert "another desk booked while the solver ran" in err, err
    walk_in = json.loads(desk.stdout)["data"]["plan_id"]
    assert query(ledger_path, "SELECT COUNT(*) FROM sessions WHERE plan_id = ? AND status = 'booked'",
                 (walk_in,)) == [(7,)]  # fmt: skip
    docs = [json.loads(x) for x in out.splitlines()]
    assert len(docs) == 150 and sum(d["status"] == "ok" for d in docs) >= 30
    assert capacity_violations(ledger_path, chairs=2, starts_per_slot=1, rooms=1, turnover_minutes=15) == []


def test_progress_on_stderr_and_silent_with_json(cli, tmp_path: Path) -> None:
    clinic = one_session_a_day(tmp_path, window=[2, 3], gap=2)
    rows = tmp_path / "rows.csv"
    rows.write_text(CONGESTED, encoding="utf-8")
    told = cli("batch", rows, "--clinic", clinic, "--optimize", "--dry-run")
    assert re.search(r"\d+\.\d s: \d+ requests planned, at most \d+ possible", told.stderr), told.stderr
    quiet = cli("batch", rows, "--clinic", clinic, "--optimize", "--dry-run", "--json")
    assert not re.search(r"\d+\.\d s: ", quiet.stderr) and "--optimize:" in quiet.stderr
    statuses = [[json.loads(x)["status"] for x in r.stdout.splitlines()] for r in (told, quiet)]
    assert statuses[0] == statuses[1] == ["ok", "infeasible", "ok"]


def test_a_day_closed_in_the_ledger_takes_no_one(cli, tmp_path: Path) -> None:
    """`close` records a closure in the ledger, not in the clinic file: `batch --optimize`
    reads the clinic as it stands (as first come does), so nobody is booked that day."""
    clinic = one_session_a_day(tmp_path, window=[2, 3], gap=2)
    ledger = tmp_path / "l.sqlite3"
    rows = tmp_path / "rows.csv"
    rows.write_text("patient,start,end\nA,2027-02-01,2027-02-03\n", encoding="utf-8")
    assert cli("close", "2027-02-01", "--reason", "flood", "--clinic", clinic, "--ledger", ledger).exit_code == 0
    for extra in ([], ["--optimize"]):
        r = cli("batch", rows, "--clinic", clinic, "--dry-run", "--ledger", ledger, *extra)
        doc = json.loads(r.stdout.splitlines()[0])
        assert doc["status"] == "ok", doc
        assert [s["start"][:10] for s in doc["data"]["sessions"]] == ["2027-02-02", "2027-02-03"], extra


def test_a_day_closed_at_another_desk_during_the_solve_is_not_booked(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The solver works on a snapshot; a day closed at another desk while it runs is read
    under the write lock, and the plan that used it is made again around it."""
    from datetime import datetime

    from ketaplan.app import optimize
    from ketaplan.app.closures import close_in_ledger
    from ketaplan.core.model import Closure
    from ketaplan.formats.clinic_file import load_clinic
    from ketaplan.store.holiday_cache import FROM_PACKAGE
    from ketaplan.store.location import ledger_at

    clinic_file = one_session_a_day(tmp_path, window=[2, 3], gap=2)
    clinic = load_clinic(clinic_file, FROM_PACKAGE)
    ledger = tmp_path / "l.sqlite3"
    assert cli("close", "2027-03-01", "--reason", "an older closure", "--clinic", clinic_file,
               "--ledger", ledger).exit_code == 0  # fmt: skip
    solve = optimize.solve
    closed: list[str] = []

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        witness, summary = solve(*args, **kwargs)
        day = min(s.start for sessions in witness.values() for s in sessions).astimezone(clinic.zone).date()
        close_in_ledger(ledger_at(str(ledger)), clinic, Closure(day, day, "flood"), datetime.now(clinic.zone))
        closed.append(day.isoformat())
        return witness, summary

    monkeypatch.setattr(optimize, "solve", meanwhile)
    rows = tmp_path / "rows.csv"
    rows.write_text("patient,start,end\nA,2027-02-01,2027-02-03\n", encoding="utf-8")
    r = cli("batch", rows, "--clinic", clinic_file, "--optimize", "--ledger", ledger)
    doc = json.loads(r.stdout.splitlines()[0])
    assert closed == ["2027-02-01"]
    assert doc["status"] == "ok" and [s["start"][:10] for s in doc["data"]["sessions"]] == ["2027-02-02", "2027-02-03"]
    assert "while the solver ran: 1 plans made again" in r.stderr, r.stderr
