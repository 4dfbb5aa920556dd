"""docs/OPERATIONS.md keeps up with the code: every setting, the backup commands the test runs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from geo_urp import settings

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Every environment variable settings.py reads, however it reads it.
READ = re.compile(r'(?:environ\.get\(|environ\[|_float\()\s*"([A-Z][A-Z0-9_]*)"')
SETTINGS_ROWS = {name for row in re.findall(r"(?m)^\| (.+?) \|", OPERATIONS)
                 for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row)}


def test_settings_are_read_the_way_the_check_reads_them():
    """The check below must see what settings.py reads; a new way to read one fails here first."""
    names = set(READ.findall(Path(settings.__file__).read_text(encoding="utf-8")))
    assert {"DATABASE_URL", "DATABASE_ADMIN_URL", "SECRET_KEY", "LOG_FORMAT", "SNAP_LAMP_MAX_M", "SMTP_PORT"} <= names


@pytest.mark.parametrize("name", sorted(set(READ.findall(Path(settings.__file__).read_text(encoding="utf-8")))))
def test_every_environment_variable_is_a_row_of_the_settings_table(name):
    assert name in SETTINGS_ROWS, f"{name} is read by geo_urp/settings.py but not in docs/OPERATIONS.md's table"


@pytest.mark.parametrize("key", sorted(settings.from_env()))
def test_every_setting_is_told_in_operations_or_the_readme(key):
    assert f"`{key}`" in OPERATIONS or f"`{key}`" in README or f"{key}" in OPERATIONS


@pytest.mark.parametrize("command", ["pg_dump --format=custom --file=", "createdb --maintenance-db=",
                                     "pg_restore --exit-on-error --dbname="])
def test_the_backup_commands_are_the_ones_the_backup_test_runs(command):
    backup_test = (ROOT / "tests" / "test_backup.py").read_text(encoding="utf-8")
    assert command in OPERATIONS
    assert f'"{command.split()[0]}", ' in backup_test and all(
        f'"{part}' in backup_test or f'f"{part}' in backup_test for part in command.split()[1:])


def test_the_guide_names_no_path_of_a_build_machine():
    assert not re.search(r"(?<![\w.])/(?:work|tmp|home|root)/", OPERATIONS)
