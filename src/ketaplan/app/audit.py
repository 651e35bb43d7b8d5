"""Checking a series that was not planned here (an imported .ics) against every rule."""

from __future__ import annotations

from datetime import UTC, timedelta

from ketaplan.app.views import ledger_view
from ketaplan.core import checks
from ketaplan.core.clinic import Clinic
from ketaplan.core.model import BOOSTER, Plan, Session
from ketaplan.store.ledger import Ledger


def audit_series(plan: Plan, clinic: Clinic, ledger: Ledger | None) -> tuple[Plan, list[checks.CheckResult]]:
    """Give each session the lowest chair (or room) free of everyone else's bookings,
    then run every named check. Bookings of the same plan in the ledger are not 'others'."""
    starts = [s.start for s in plan.sessions] + [s.end for s in plan.sessions]
    span = (min(starts) - timedelta(days=1), max(starts) + timedelta(days=1))
    if ledger is None:
        avail = ledger_view(None, clinic, span)
    else:
        with ledger.read() as tx:
            avail = ledger_view(tx, clinic, span, without=plan.plan_id)

    def placed(s: Session) -> Session:
        if s.resource is not None or not s.active:
            return s
        return s._replace(resource=avail.free_resource(s.kind, s.start.astimezone(UTC), s.end.astimezone(UTC)))

    plan = plan._replace(sessions=tuple(placed(s) for s in plan.sessions))
    boosters = sum(1 for s in plan.active if s.kind == BOOSTER)
    ctx = checks.CheckContext(avail.clinic, None, avail.occupancy, plan.consultation is not None, boosters)
    return plan, checks.run_checks(plan, ctx)
