"""The documentation matches the code: every command documented, the reference current,
and CI running the README's test command (the layers: test_layout.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
sys.path.insert(0, str(ROOT / "tools"))

import cli_reference  # type: ignore[import-not-found]  # noqa: E402


def test_every_command_is_documented_in_the_readme() -> None:
    names = [name for name, _ in cli_reference.commands()]
    assert names, "no commands found"
    for name in names:
        assert f"`ketaplan {name}" in README, f"README does not document `ketaplan {name}`"


def test_cli_reference_is_current() -> None:
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == cli_reference.render(), "run: python tools/cli_reference.py > docs/cli.md"


def test_every_option_has_help() -> None:
    for name, cmd in cli_reference.commands():
        for p in cmd.params:
            if getattr(p, "param_type_name", "") == "option" and p.name != "help":
                assert p.help, f"ketaplan {name} {p.opts[0]} has no help text"


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    install_run, install_test = blocks[0].strip(), blocks[1].strip()
    assert "ketaplan schedule" in install_run and "pip install ." in install_run
    assert "pytest" in install_test and "[test]" in install_test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert install_test in ci


def test_version_does_not_import_typer() -> None:
    code = (
        "import sys; sys.argv=['ketaplan','--version']; from ketaplan.cli import main; main(); "
        "print('typer' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[-1] == "False"


def test_json_schedule_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; sys.argv=['ketaplan','schedule','--patient','X','--start','tomorrow','--dry-run','--json']\n"
        "from ketaplan.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('icalendar', 'reportlab', 'rich.progress', 'holidays', 'dateutil', "
        "'pydantic', 'psycopg', 'highspy', 'babel') if m in sys.modules), file=sys.stderr)"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)  # fills the holiday cache
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stderr
    assert err.strip().splitlines()[-1] == "[]", err


def test_start_up_skips_cycle_collection_only_until_the_command_is_loaded() -> None:
    """The CLI turns the cycle collector off while importing (start-up speed) and must turn
    it back on before the command runs, or a long batch would never collect."""
    code = (
        "import gc, sys\n"
        "import ketaplan.app.booking as booking\n"
        "real = booking.plan_and_book\n"
        "seen = []\n"
        "def spy(*a, **k):\n    seen.append(gc.isenabled())\n    return real(*a, **k)\n"
        "booking.plan_and_book = spy\n"
        "import ketaplan.cli.commands.schedule as s\n"
        "s.plan_and_book = spy\n"
        "from ketaplan.cli import main\n"
        "def run():\n"
        "    try:\n        main(['schedule','--patient','X','--start','tomorrow','--dry-run','--json'])\n"
        "    except SystemExit:\n        pass\n"
        "run()\n"
        "frozen = gc.get_freeze_count()\n"
        "run()  # a second run in the same process does not start up again\n"
        "print(seen, gc.isenabled(), frozen > 0, gc.get_freeze_count() <= frozen, file=sys.stderr)"
    )
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stderr
    assert err.strip().splitlines()[-1] == "[True, True] True True True", err


def test_every_command_has_its_own_test_file() -> None:
    from ketaplan.cli.commands import COMMANDS

    modules = {where.split(":")[0].rsplit(".", 1)[1] for where in COMMANDS.values()}
    missing = [m for m in sorted(modules) if not (ROOT / "tests" / f"test_cmd_{m}.py").is_file()]
    assert not missing, f"command modules without tests/test_cmd_<module>.py: {missing}"
