"""The Postgres functions the runtime calls are the versioned `.sql` files in `atrium/runtime/sql/`: the
function the migrations installed has the body of the newest file of its name, so a change to one
without a migration that loads it (or the reverse) fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


def _newest(name: str) -> Path:
    versions = sorted(SQL_DIR.glob(f"{name}.v*.sql"), key=lambda p: int(p.name.split(".v")[1].split(".")[0]))
    assert versions, f"no {name}.v*.sql"
    return versions[-1]


def _body(text: str) -> str:
    found = re.search(r"\$\$(.*)\$\$", text, flags=re.S)
    assert found is not None
    return found.group(1).strip()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted({p.name.split(".v")[0] for p in SQL_DIR.glob("*.v*.sql")}))
def test_the_installed_function_is_the_newest_file(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [name])
        rows = cursor.fetchall()
    assert len(rows) == 1, f"{name}: {len(rows)} definitions installed"
    assert rows[0][0].strip() == _body(_newest(name).read_text())
