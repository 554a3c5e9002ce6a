"""Keep a few long-running processes up, and take every one of them down with it.

    supervise.py [--tag dev] [--grace 10] [--backoff-max 30] [--stable 30] [--on-exit 'shell command']
                 [-- NAME COMMAND ARGS... [-- NAME COMMAND ARGS...]...]

`make dev` (infra/scripts/dev.sh) ends by exec'ing this with its web, worker and beat processes; the
test and bench scripts use it with no program at all, as a guard whose --on-exit stops their services.

- Each program runs in a session of its own, so stopping it stops what it spawned (a process group),
  and a Ctrl-C in the terminal reaches only the supervisor, which stops the programs in order. Their
  output is prefixed with `[NAME] `.
- A program that exits is restarted after 1 s, 2 s, 4 s ... (at most --backoff-max), the delay reset
  once it has stayed up --stable seconds, with a loud line: `[dev] worker exited with 137; restarting
  in 2s`.
- SIGTERM, SIGINT or SIGHUP, however many and however often, stop everything once: SIGTERM to every
  program's group, SIGKILL to what is left after --grace seconds, then --on-exit, then exit 0.
- Nothing outlives it, nor it its parent (Linux): it asks the kernel for SIGTERM when its parent dies
  (so a SIGKILLed `make` still stops everything, --on-exit included), and starts every program under
  `setpriv --pdeathsig TERM`, so a program gets SIGTERM when the supervisor dies, even by SIGKILL: the
  signal a program stops cleanly on (uvicorn's master then stops its workers; Celery stops consuming).
  The death signal is tied to the thread that forked; every program is started from the main thread.

Standard library only: it runs under any Python 3.9+, the project's or the system's.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def die_with_parent(sig: int = signal.SIGTERM, parent: int | None = None) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux only; else nothing).
    `parent` is the pid the parent should have: another one means it died already."""
    if not sys.platform.startswith("linux"):
        return
    parent = parent or os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), sig)


def exit_status(returncode: int) -> int:
    """As a shell reports it: killed by signal N is 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


@dataclass
class Program:
    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float = 0.0
    failures: int = 0  # exits in a row, each before --stable seconds of uptime
    readers: list[threading.Thread] = field(default_factory=list)


class Supervisor:
    def __init__(self, args: argparse.Namespace, programs: list[Program]) -> None:
        self.tag, self.grace, self.stable = args.tag, args.grace, args.stable
        self.backoff_max, self.on_exit = args.backoff_max, args.on_exit
        self.programs, self.parent = programs, args.parent
        self.stopping = False
        # Without setpriv (not Linux), programs still stop with the supervisor unless it is SIGKILLed.
        setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
        self.guard = [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []

    def log(self, message: str) -> None:
        sys.stderr.write(f"[{self.tag}] {message}\n")
        sys.stderr.flush()

    def request_stop(self, signum: int, frame: object) -> None:
        self.stopping = True  # idempotent: a second signal changes nothing

    def start(self, program: Program) -> None:
        try:
            program.process = subprocess.Popen(  # noqa: S603 - the operator's own command line
                [*self.guard, *program.command],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:  # e.g. no such command: counted as an exit, retried with backoff
            self.log(f"{program.name} did not start: {error}")
            self.schedule_restart(program, 127)
            return
        program.started_at = time.monotonic()
        reader = threading.Thread(target=self.relay, args=(program.name, program.process), daemon=True)
        reader.start()
        program.readers = [*(r for r in program.readers if r.is_alive()), reader]

    def relay(self, name: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        out = sys.stdout.buffer
        prefix = f"[{name}] ".encode()
        for line in iter(process.stdout.readline, b""):
            out.write(prefix + line if line.endswith(b"\n") else prefix + line + b"\n")
            out.flush()

    def schedule_restart(self, program: Program, status: int) -> None:
        if program.started_at and time.monotonic() - program.started_at >= self.stable:
            program.failures = 0
        delay = min(2**program.failures, self.backoff_max)
        program.failures += 1
        program.process, program.started_at = None, 0.0
        program.restart_at = time.monotonic() + delay
        self.log(f"{program.name} exited with {status}; restarting in {delay:g}s")

    def kill_group(self, process: subprocess.Popen[bytes], sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)

    def run(self) -> int:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self.request_stop)
        die_with_parent(signal.SIGTERM, self.parent)
        for program in self.programs:
            self.start(program)
        while not self.stopping:
            now = time.monotonic()
            for program in self.programs:
                if self.stopping:
                    break
                if program.process is None:
                    if now >= program.restart_at:
                        self.start(program)
                elif (code := program.process.poll()) is not None:
                    self.kill_group(program.process, signal.SIGKILL)  # what it left behind
                    self.schedule_restart(program, exit_status(code))
            time.sleep(0.1)
        self.stop()
        return 0

    def stop(self) -> None:
        running = {p.name: p.process for p in self.programs if p.process is not None}
        if running:
            self.log("stopping " + ", ".join(running))
        for process in running.values():
            self.kill_group(process, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while any(process.poll() is None for process in running.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        for name, process in running.items():
            if process.poll() is None:
                self.log(f"{name} did not stop within {self.grace:g}s; killing it")
            self.kill_group(process, signal.SIGKILL)  # the group: children that outlived their parent too
            process.wait()
        for program in self.programs:
            for reader in program.readers:
                reader.join(timeout=1)
        if self.on_exit:
            subprocess.run(["bash", "-c", self.on_exit], check=False)  # noqa: S603, S607


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[Program]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tag", default="supervise", help="the prefix of the supervisor's own lines")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL")
    parser.add_argument("--backoff-max", type=float, default=30.0, help="longest wait before a restart")
    parser.add_argument("--stable", type=float, default=30.0, help="uptime that resets the backoff")
    parser.add_argument(
        "--parent", type=int, help="the pid of the parent it must not outlive (default: its own)"
    )
    parser.add_argument("--on-exit", default="", help="a bash command run once everything has stopped")
    own, rest = (argv[: argv.index("--")], argv[argv.index("--") :]) if "--" in argv else (argv, [])
    args = parser.parse_args(own)
    programs: list[Program] = []
    for token in rest:
        if token == "--":
            programs.append(Program(name="", command=[]))
        elif not programs[-1].name:
            programs[-1].name = token
        else:
            programs[-1].command.append(token)
    for program in programs:
        if not program.command:
            parser.error(f"program {program.name or '(unnamed)'!r} has no command")
    return args, programs


if __name__ == "__main__":
    sys.exit(Supervisor(*parse(sys.argv[1:])).run())
