"""Artifacts of a thread's sandbox: listed and downloaded by the thread's owner only, on real sandboxes."""

from __future__ import annotations

import shutil

import pytest

from atrium.runtime.models import Thread

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")

CALLERS = ("anonymous", "other_org", "viewer", "editor", "admin")
PNG = bytes(range(256)) * 4


def _thread_with_files(owner, sandbox_provider) -> Thread:
    thread = Thread.unscoped.create(org=owner.org, owner=owner.user)
    sandbox = sandbox_provider.get_or_create({"org_id": str(owner.org.id), "thread_id": str(thread.id)})
    workspace = sandbox.workspace_dir
    (workspace / "plots").mkdir()
    (workspace / "plots" / "chart.png").write_bytes(PNG)
    (workspace / "report.md").write_text("# Q3\n")
    (workspace / "memories").mkdir()
    (workspace / "memories" / "notes.md").write_text("private seed copy")
    (workspace / "uploads").mkdir()
    (workspace / "uploads" / "data.csv").write_text("the user's attached copy")
    (workspace / ".cache").mkdir()
    (workspace / ".cache" / "x").write_text("tooling")
    assert sandbox.execute("ln -s /etc/passwd /workspace/passwd-link").exit_code == 0
    return thread


@pytest.mark.django_db
@pytest.mark.parametrize("owner_role", ["editor", "viewer"])
@pytest.mark.parametrize("caller", CALLERS)
def test_only_the_threads_owner_lists_and_downloads_its_artifacts(
    caller, owner_role, client_for, members, sandbox_provider
):
    # given
    thread = _thread_with_files(members[owner_role], sandbox_provider)
    client = client_for(caller)
    base = f"/api/v1/orgs/acme/threads/{thread.id}/artifacts"

    # when
    listed = client.get(base)
    downloaded = client.get(f"{base}/plots/chart.png")

    # then
    if caller == owner_role:
        assert listed.status_code == 200
        assert [(a["path"], a["size"]) for a in listed.json()] == [
            ("plots/chart.png", 1024),
            ("report.md", 5),
        ]
        assert downloaded.status_code == 200
        assert downloaded.content == PNG
        assert downloaded["Content-Type"] == "application/octet-stream"
        assert (
            downloaded["Content-Disposition"]
            == "attachment; filename=\"chart.png\"; filename*=UTF-8''chart.png"
        )
    else:
        expected = 401 if caller == "anonymous" else 404
        assert (listed.status_code, downloaded.status_code) == (expected, expected)
        assert b"chart" not in listed.content + downloaded.content


@pytest.mark.django_db
def test_downloads_stay_inside_the_workspace(client_for, editor, sandbox_provider):
    # given
    thread = _thread_with_files(editor, sandbox_provider)
    client = client_for("editor")
    base = f"/api/v1/orgs/acme/threads/{thread.id}/artifacts"

    # when / then: a planted symlink, a path climbing out, seeded and hidden files, absent files
    link = client.get(f"{base}/passwd-link")
    assert (link.status_code, link.json()["code"]) == (404, "not_found")
    climb = client.get(f"{base}/%2e%2e/meta.json")
    assert (climb.status_code, climb.json()["code"]) == (422, "validation_error")
    for hidden in ("memories/notes.md", "uploads/data.csv", ".cache/x", "missing.txt", "plots"):
        assert client.get(f"{base}/{hidden}").status_code == 404
    assert client.get(f"{base}/report.md").content == b"# Q3\n"


@pytest.mark.django_db
def test_a_thread_without_a_sandbox_has_no_artifacts(client_for, editor, sandbox_provider):
    thread = Thread.unscoped.create(org=editor.org, owner=editor.user)
    client = client_for("editor")

    assert client.get(f"/api/v1/orgs/acme/threads/{thread.id}/artifacts").json() == []
    assert client.get(f"/api/v1/orgs/acme/threads/{thread.id}/artifacts/report.md").status_code == 404
    assert client.get("/api/v1/orgs/acme/threads/not-a-uuid/artifacts").status_code == 404
