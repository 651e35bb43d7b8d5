"""One module per command; each defines `app` with its one command. This module holds
only the names, so the app and the error output can both know them without importing
each other or any command."""

from __future__ import annotations

#: Command name -> the module that defines it ("module:attribute" when a module holds
#: several commands' apps; else its `app`). Modules load only when their command runs
#: (or for --help), so start-up does not grow with the number of commands.
COMMANDS: dict[str, str] = {
    "schedule": "ketaplan.cli.commands.schedule",
    "batch": "ketaplan.cli.commands.batch",
    "plans": "ketaplan.cli.commands.plans",
    "show": "ketaplan.cli.commands.show",
    "export": "ketaplan.cli.commands.export",
    "reschedule": "ketaplan.cli.commands.reschedule",
    "cancel": "ketaplan.cli.commands.cancel",
    "boosters": "ketaplan.cli.commands.boosters",
    "attend": "ketaplan.cli.commands.attendance:attend_app",
    "no-show": "ketaplan.cli.commands.attendance:no_show_app",
    "check": "ketaplan.cli.commands.check",
    "availability": "ketaplan.cli.commands.availability",
    "day": "ketaplan.cli.commands.day",
    "close": "ketaplan.cli.commands.close",
    "closures": "ketaplan.cli.commands.closures",
    "reopen": "ketaplan.cli.commands.reopen",
    "contact": "ketaplan.cli.commands.contact",
    "outbox": "ketaplan.cli.commands.outbox",
    "send": "ketaplan.cli.commands.send",
    "sync": "ketaplan.cli.commands.sync",
    "remind": "ketaplan.cli.commands.remind",
    "conflicts": "ketaplan.cli.commands.conflicts",
    "repair": "ketaplan.cli.commands.repair",
    "clinic": "ketaplan.cli.commands.clinic",
    "ledger": "ketaplan.cli.commands.ledger",
}
