"""The Postgres functions the runtime installs are the versioned `.sql` files in `atrium/runtime/sql/`
(`<name>.v<N>.sql`): the function the migrations installed has the body of the newest file of its name,
every `atrium_*` function installed has a file, and every file is loaded by a migration; so a change to
one without a migration that loads it (or the reverse, or a function created inline) fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
FILE_NAME = re.compile(r"^(?P<name>[a-z_][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.sql$")
NAMES = sorted({m["name"] for p in SQL_DIR.glob("*.sql") if (m := FILE_NAME.match(p.name))})


def _parts(path: Path) -> tuple[str, int]:
    found = FILE_NAME.match(path.name)
    assert found is not None, f"name SQL files <function>.v<N>.sql: {path.name}"
    return found["name"], int(found["version"])


def _newest(name: str) -> Path:
    versions = sorted(SQL_DIR.glob(f"{name}.v*.sql"), key=lambda p: _parts(p)[1])
    assert versions, f"no {name}.v*.sql"
    return versions[-1]


def _body(text: str) -> str:
    found = re.search(r"\$\$(.*)\$\$", text, flags=re.S)
    assert found is not None
    return found.group(1).strip()


def _installed() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND p.proname LIKE 'atrium\\_%%'"
        )
        found: dict[str, list[str]] = {}
        for name, source in cursor.fetchall():
            found.setdefault(name, []).append(source)
    return found


def test_every_file_in_the_directory_is_a_versioned_function() -> None:
    strays = [p.name for p in SQL_DIR.iterdir() if p.suffix == ".sql" and not FILE_NAME.match(p.name)]
    assert strays == [], f"name SQL files <function>.v<N>.sql: {strays}"
    for path in SQL_DIR.glob("*.sql"):
        declared = re.search(r"CREATE (?:OR REPLACE )?FUNCTION\s+([a-z_][a-z0-9_]*)\s*\(", path.read_text())
        assert declared is not None, f"{path.name} creates no function"
        assert declared.group(1) == _parts(path)[0], f"{path.name} creates {declared.group(1)}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", NAMES)
def test_the_installed_function_is_the_newest_file(name: str) -> None:
    installed = _installed().get(name, [])
    assert len(installed) == 1, f"{name}: {len(installed)} definitions installed"
    assert installed[0].strip() == _body(_newest(name).read_text())


@pytest.mark.django_db
def test_every_installed_function_has_a_file() -> None:
    assert sorted(_installed()) == NAMES, "a function installed has no sql/ file"


@pytest.mark.parametrize("path", sorted(SQL_DIR.glob("*.sql")), ids=lambda p: p.name)
def test_every_file_is_loaded_by_a_migration(path: Path) -> None:
    migrations = "\n".join(p.read_text() for p in MIGRATIONS_DIR.glob("0*.py"))
    assert f'"{path.name}"' in migrations, f"{path.name} is loaded by no migration"
