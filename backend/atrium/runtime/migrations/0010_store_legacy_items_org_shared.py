"""Store items outside `("org", ...)` become private per user (ADR 0018); the existing ones were shared
by the whole org, so they move to an org-shared place and nothing is lost or newly hidden:
`("org:<org>", "notes")` on disk becomes `("org:<org>", "org", <org>, "shared", "notes")`, the
namespace `("org", <org>, "shared", "notes")` that members read and admins write.

LangGraph's `store` table keys items by `prefix` (the on-disk namespace's labels joined by ".") and
`key`. A row whose new place is already taken stays where it was (unreachable, not deleted).

Reversed, the shared rows move back, and the private partitions (`org:<org>.user:<id>...`), which
code of before this migration would serve to the whole org as a namespace `("user:<id>", ...)`, are
parked under `parked.` where no org reaches them; applying the migration again brings them back.
Atrium's store has no vector index, so `store_vectors` (keyed by the same prefix) does not exist.
"""

from django.db import migrations

# Legacy: the second label of the on-disk prefix is not the shared partition's "org".
LEGACY = r"s.prefix ~ '^org:[^.]+\.' AND split_part(s.prefix, '.', 2) <> 'org'"
SHARED_PLACE = r"regexp_replace(s.prefix, '^org:([^.]+)\.', 'org:\1.org.\1.shared.')"
MOVED_BACK = r"s.prefix ~ '^org:([^.]+)\.org\.\1\.shared\.'"
OLD_PLACE = r"regexp_replace(s.prefix, '^org:([^.]+)\.org\.\1\.shared\.', 'org:\1.')"
PRIVATE = r"s.prefix ~ '^org:[^.]+\.user:[^.]+\.'"
PARKED = r"s.prefix ~ '^parked\.org:'"


def _move(where: str, to: str) -> str:
    return (
        f"UPDATE store AS s SET prefix = {to} WHERE {where} AND NOT EXISTS "
        f"(SELECT 1 FROM store AS t WHERE t.prefix = {to} AND t.key = s.key);"
    )


FORWARD = _move(LEGACY, SHARED_PLACE) + _move(PARKED, "substr(s.prefix, 8)")
REVERSE = _move(PRIVATE, "'parked.' || s.prefix") + _move(MOVED_BACK, OLD_PLACE)


class Migration(migrations.Migration):
    dependencies = [("runtime", "0009_claim_with_grants")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
