from __future__ import annotations

from pathlib import Path

from helpers import write_clinic


def test_init_writes_a_valid_template_and_refuses_to_overwrite(cli, tmp_path: Path) -> None:
    path = tmp_path / "clinic.toml"
    r = cli("clinic", "init", path)
    assert r.exit_code == 0 and path.exists()
    assert cli("clinic", "check", path).exit_code == 0
    again = cli("clinic", "init", path)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert cli("clinic", "init", path, "--force").exit_code == 0


def test_init_default_goes_to_user_config_and_is_then_used(cli, tmp_path: Path) -> None:
    assert cli("clinic", "init").exit_code == 0
    r = cli("clinic", "show")
    assert r.exit_code == 0 and "built-in demo" not in r.stderr
    assert "clinic.toml" in r.stdout


def test_show_renders_hours_chairs_and_closures(cli, tmp_path: Path) -> None:
    clinic = write_clinic(
        tmp_path / "c.toml", chairs=["Recliner A", "Recliner B"], closures={"dates": ["2026-12-24"], "holidays": "US"}
    )
    r = cli("clinic", "show", "--clinic", clinic)
    assert r.exit_code == 0
    assert "Recliner A, Recliner B" in r.stdout and "weekly hours" in r.stdout and "  Mon  " in r.stdout
    assert "2026-12-24" in r.stdout and "Christmas Day" in r.stdout


def test_check_reports_the_key(cli, tmp_path: Path) -> None:
    bad = write_clinic(tmp_path / "c.toml", timezone="Mars/Base")
    r = cli("clinic", "check", bad)
    assert r.exit_code == 2 and "timezone:" in r.stderr
