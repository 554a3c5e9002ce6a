"""File transfer across the boundary, and deepagents' file tools running inside the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from atrium_agents.sandbox import BubblewrapSandbox


def test_upload_and_download_round_trip_bytes(sandbox: BubblewrapSandbox):
    # given
    blob = bytes(range(256)) * 100

    # when
    uploaded = sandbox.upload_files([("/workspace/data/blob.bin", blob), ("/workspace/hello.txt", b"hi\n")])
    downloaded = sandbox.download_files(
        ["/workspace/data/blob.bin", "/workspace/hello.txt", "/workspace/nope"]
    )

    # then
    assert [r.error for r in uploaded] == [None, None]
    assert [(r.content, r.error) for r in downloaded] == [
        (blob, None),
        (b"hi\n", None),
        (None, "file_not_found"),
    ]
    assert sandbox.execute("sha256sum data/blob.bin | cut -c1-8; stat -c %u hello.txt").exit_code == 0


@pytest.mark.parametrize(
    "path", ["/workspace/../etc/passwd", "/etc/passwd", "relative.txt", "/workspace", "/usr/bin/python3", "/"]
)
def test_transfers_are_confined_to_the_workspace_and_tmp(sandbox: BubblewrapSandbox, path: str):
    # when
    uploaded = sandbox.upload_files([(path, b"x")])
    downloaded = sandbox.download_files([path])

    # then
    assert uploaded[0].error == "invalid_path"
    assert downloaded[0].error == "invalid_path"
    assert downloaded[0].content is None


def test_symlinks_planted_in_the_sandbox_do_not_lead_to_host_files(
    sandbox: BubblewrapSandbox, sandbox_root: str
):
    # given a host file, and links to it (and to the host root) made inside the sandbox
    secret = Path(sandbox_root) / "host-secret.txt"
    secret.write_text("host only")
    sandbox.execute(f"ln -s {secret} direct; ln -s / slash; ln -s /etc/passwd passwd")

    # when
    results = sandbox.download_files(
        ["/workspace/direct", f"/workspace/slash{secret}", "/workspace/passwd", "/workspace/slash/etc/passwd"]
    )
    overwrite = sandbox.upload_files(
        [("/workspace/direct", b"pwned"), (f"/workspace/slash{secret}", b"pwned")]
    )

    # then: the final link is never followed; through a directory link, paths resolve in the sandbox's
    # view only, where the host file does not exist (a write lands somewhere inside the sandbox)
    assert [r.error for r in results[:3]] == ["invalid_path", "file_not_found", "invalid_path"]
    assert results[3].content is not None
    assert b"sandbox:x:65534" in results[3].content
    assert overwrite[0].error == "invalid_path"
    assert secret.read_text() == "host only"


def test_deepagents_file_tools_work_inside(sandbox: BubblewrapSandbox):
    # when
    written = sandbox.write("/workspace/src/app.py", "def greet():\n    return 'hello'\n")
    edited = sandbox.edit("/workspace/src/app.py", "'hello'", "'hello, world'")
    big_edit = sandbox.edit(
        "/workspace/src/app.py", "def greet", "def " + "g" * 70_000
    )  # goes via /tmp upload
    restored = sandbox.edit("/workspace/src/app.py", "def " + "g" * 70_000, "def greet")
    read = sandbox.read("/workspace/src/app.py")
    listed = sandbox.ls("/workspace/src")
    grepped = sandbox.grep("hello, world", path="/workspace")
    globbed = sandbox.glob("**/*.py", path="/workspace")
    ran = sandbox.execute(
        "python3 -c 'import sys; sys.path.insert(0, \"src\"); import app; print(app.greet())'"
    )

    # then
    assert written.error is None
    assert edited.error is None
    assert edited.occurrences == 1
    assert big_edit.error is None
    assert restored.error is None
    assert read.file_data is not None
    assert read.file_data["content"] == "def greet():\n    return 'hello, world'"
    assert [e["path"] for e in listed.entries or []] == ["/workspace/src/app.py"]
    assert [(m["path"], m["line"]) for m in grepped.matches or []] == [("/workspace/src/app.py", 2)]
    assert [m["path"] for m in globbed.matches or []] == ["/workspace/src/app.py"]
    assert ran.output == "hello, world\n"


def test_writing_outside_the_workspace_is_refused_with_a_reason(sandbox: BubblewrapSandbox):
    result = sandbox.write("/notes.txt", "lost")
    assert result.error == "Failed to write file '/notes.txt': invalid_path"
