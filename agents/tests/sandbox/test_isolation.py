from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from atrium_agents.sandbox import BubblewrapSandbox


def test_commands_run_as_an_unprivileged_uid_in_the_workspace(sandbox: BubblewrapSandbox):
    # when
    result = sandbox.execute("id -u; id -g; pwd; cat /proc/self/status | grep CapEff")

    # then
    assert result.exit_code == 0
    assert result.output.split("\n")[:3] == ["65534", "65534", "/workspace"]
    assert "CapEff:\t0000000000000000" in result.output


def test_there_is_no_network_not_even_the_hosts_loopback(sandbox: BubblewrapSandbox):
    # given a service listening on the host's loopback
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        # when sandboxed code tries to reach it, and the outside world
        local = sandbox.execute(
            f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 2)'"
        )
        outside = sandbox.execute(
            "python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 53), 2)'"
        )
        interfaces = sandbox.execute("cat /proc/net/dev")

    # then
    assert local.exit_code == 1
    assert "ConnectionRefusedError" in local.output
    assert outside.exit_code == 1
    assert "Network is unreachable" in outside.output
    assert [line.split(":")[0].strip() for line in interfaces.output.splitlines()[2:]] == ["lo"]


@pytest.mark.parametrize("path", ["/etc/shadow", "/work", "/root", str(Path(__file__)), "/home", "/var"])
def test_host_files_are_not_there(sandbox: BubblewrapSandbox, path: str):
    # when
    result = sandbox.execute(f"ls -d {path} && cat {path}")

    # then
    assert result.exit_code != 0
    assert "No such file or directory" in result.output


def test_the_system_is_read_only(sandbox: BubblewrapSandbox):
    # when
    result = sandbox.execute("touch /usr/bin/evil")

    # then
    assert result.exit_code == 1
    assert "Read-only file system" in result.output


def test_the_workers_environment_never_reaches_sandboxed_code(
    sandbox: BubblewrapSandbox, monkeypatch: pytest.MonkeyPatch
):
    # given a secret in the worker's environment
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-must-not-leak")
    assert os.environ["OPENAI_API_KEY"] == "sk-test-must-not-leak"

    # when
    result = sandbox.execute("env; cat /proc/1/environ /proc/self/environ | tr '\\0' '\\n'")

    # then
    assert result.exit_code == 0
    assert "sk-test-must-not-leak" not in result.output
    assert "OPENAI_API_KEY" not in result.output
    assert sorted(sandbox.execute("env").output.split()) == [
        "HOME=/workspace",
        "LANG=C.UTF-8",
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "PWD=/workspace",
        "TMPDIR=/tmp",
    ]


def test_only_the_sandboxs_own_processes_are_visible(sandbox: BubblewrapSandbox):
    # when
    result = sandbox.execute("ls /proc | grep -c '^[0-9]'")

    # then: bwrap's init, sh and ls
    assert result.exit_code == 0
    assert int(result.output) <= 4
