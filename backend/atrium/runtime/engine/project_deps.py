"""A LangGraph project's ``dependencies`` and ``env``, honoured as ``langgraph build`` / ``langgraph dev`` do.

``dependencies`` entries are installed into a *project overlay*, a directory next to (never inside)
Atrium's locked virtualenv, so ``uv sync`` cannot wipe them and Atrium's own pins cannot be changed by
a project:

* a local directory with a ``pyproject.toml`` / ``setup.py`` is installed as a package, editable (as
  ``langgraph build`` does with ``pip install -e``), so a ``src/<package>`` layout imports and edits
  to its modules are seen without a reinstall; its own dependencies come with it;
* a local directory without one is put on ``sys.path`` (``langgraph build``'s "faux package"), and its
  ``requirements.txt``, if any, is installed;
* any other entry is a requirement string (``"humanize>=4"``), installed from the package index.

Resolution is constrained to the versions Atrium's environment already has, and only what that
environment lacks is installed, so graphs always run on Atrium's own langgraph, langchain-core, etc.

The overlay lives in ``<root>/<fingerprint>/site-packages``. The fingerprint hashes what decides the
install: the ``dependencies`` as written, each local dependency's path and packaging files, the
interpreter and Atrium's installed distributions. An unchanged project installs nothing; a changed one
gets a new directory (the old one is left for a running process and can be deleted).

Launchers (``make dev``/``web``/``worker``/``beat``, the image build) run ``install`` before the
processes start (``infra/scripts/project-deps.sh``, which runs this file as a script so that it imports
nothing of Atrium: ``python -P backend/atrium/runtime/engine/project_deps.py install <langgraph.json>``); each
process calls ``activate`` when it reads the ``langgraph.json``, which only adds the overlay to
``sys.path`` (no installer is needed at run time).

``env`` (a ``.env`` path relative to the ``langgraph.json``, or a mapping) is loaded into
``os.environ`` before any graph is imported. A variable the operator already set wins. ``langgraph
dev`` differs: its file overrides the shell except for the server's own settings (``run_server``'s
``patch_environment``); here every variable already set is the platform's or the operator's, so a
project's file can never change ``DATABASE_URL``, ``ATRIUM_*`` or a proxy setting, as with compose,
where ``environment:`` beats ``env_file:``.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import site
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from packaging.requirements import InvalidRequirement, Requirement

PACKAGING_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt")
_COMPLETE = "complete.json"


class ProjectDepsError(Exception):
    """A project's dependencies could not be installed (or are not installed yet)."""

    def __init__(self, project: Path, reason: str, package: str | None = None) -> None:
        self.project = project
        self.package = package
        self.reason = reason
        which = f" package '{package}':" if package else ""
        super().__init__(f"Project {project}:{which} {reason}")


@dataclass(frozen=True, slots=True)
class ProjectPlan:
    """What a ``langgraph.json``'s ``dependencies`` ask for."""

    config_path: Path
    packages: tuple[Path, ...] = ()
    """Local directories with packaging metadata, not already part of Atrium's environment."""
    path_dirs: tuple[Path, ...] = ()
    """Local directories put on ``sys.path`` as they are (no packaging metadata, or Atrium's own)."""
    requirement_files: tuple[Path, ...] = ()
    requirements: tuple[str, ...] = ()
    fingerprint: str = ""
    base: Mapping[str, str] = field(default_factory=dict)
    """Atrium's installed distributions, canonical name → version."""

    @property
    def needs_install(self) -> bool:
        return bool(self.packages or self.requirement_files or self.requirements)


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def base_distributions() -> dict[str, str]:
    """The distributions of this interpreter's own environment (never an overlay's)."""
    paths = [p for p in site.getsitepackages() if Path(p).is_dir()]
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions(path=paths):
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonical_name(name), dist.version)
    return found


def read_config(config_path: Path) -> dict[str, Any]:
    try:
        config = json.loads(config_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ProjectDepsError(config_path, f"cannot read the graphs file: {exc}") from exc
    if not isinstance(config, dict):
        raise ProjectDepsError(config_path, "the graphs file is not a JSON object")
    return config


def _package_name(directory: Path) -> str | None:
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return None
    try:
        name = tomllib.loads(pyproject.read_text()).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return name if isinstance(name, str) else None


def _satisfied(requirement: str, base: Mapping[str, str]) -> bool:
    """Whether Atrium's environment already meets a requirement string (then nothing is installed)."""
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return False  # not ours to judge: uv reports it, naming it
    version = base.get(canonical_name(parsed.name))
    if version is None or parsed.url or parsed.extras or (parsed.marker and not parsed.marker.evaluate()):
        return False
    return parsed.specifier.contains(version, prereleases=True)


def _is_package(directory: Path) -> bool:
    return (directory / "pyproject.toml").is_file() or (directory / "setup.py").is_file()


def plan(config_path: str | Path, config: Mapping[str, Any] | None = None) -> ProjectPlan:
    """Classify the ``dependencies`` of a ``langgraph.json`` and fingerprint them."""
    path = Path(config_path).resolve()
    config = read_config(path) if config is None else config
    dependencies = config.get("dependencies") or []
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise ProjectDepsError(path, '"dependencies" must be a list of strings')
    base = base_distributions()
    packages: list[Path] = []
    path_dirs: list[Path] = []
    requirement_files: list[Path] = []
    requirements: list[str] = []
    digest = hashlib.sha256()
    digest.update(json.dumps([sys.implementation.name, sys.version_info[:2], sys.prefix]).encode())
    digest.update(json.dumps(sorted(base.items())).encode())
    for entry in dependencies:
        digest.update(b"\0entry:" + entry.encode())
        # As the CLI: "." and "./x" are paths; a bare word is a path only when such a directory exists.
        directory = (path.parent / entry).resolve()
        looks_local = entry.startswith((".", "/")) or directory.is_dir()
        if not looks_local:
            if not _satisfied(entry, base):
                requirements.append(entry)
            continue
        if not directory.is_dir():
            raise ProjectDepsError(path, f"the local dependency {entry!r} is not a directory ({directory})")
        digest.update(str(directory).encode())
        for name in PACKAGING_FILES:
            file = directory / name
            if file.is_file():
                digest.update(f"\0{name}:".encode() + file.read_bytes())
        package_name = _package_name(directory)
        if _is_package(directory) and not (package_name and canonical_name(package_name) in base):
            packages.append(directory)
        else:
            # Atrium's own packages (agents/) are installed already; put the directory on sys.path
            # like a plain one so its top-level modules import too.
            path_dirs.append(directory)
            if not _is_package(directory) and (directory / "requirements.txt").is_file():
                requirement_files.append(directory / "requirements.txt")
    return ProjectPlan(
        config_path=path,
        packages=tuple(packages),
        path_dirs=tuple(path_dirs),
        requirement_files=tuple(requirement_files),
        requirements=tuple(requirements),
        fingerprint=digest.hexdigest()[:24],
        base=base,
    )


def overlay_dir(root: Path, project: ProjectPlan) -> Path:
    return root / project.fingerprint


def _site_packages(root: Path, project: ProjectPlan) -> Path:
    return overlay_dir(root, project) / "site-packages"


def is_installed(root: Path, project: ProjectPlan) -> bool:
    return (overlay_dir(root, project) / _COMPLETE).is_file()


_PACKAGE_PATTERNS = (
    re.compile(r"Because ([A-Za-z0-9][A-Za-z0-9._-]*) was not found in the package registry"),
    re.compile(r"there is no version of ([A-Za-z0-9][A-Za-z0-9._-]*)"),
    re.compile(r"only ([A-Za-z0-9][A-Za-z0-9._-]*)[<>=!~]"),
    re.compile(r"you require ([A-Za-z0-9][A-Za-z0-9._-]*?)[<>=!~]"),
    re.compile(r"Failed to (?:build|download|fetch|resolve)[^`]*`([^`@ ]+)"),
    re.compile(r"(?:P|p)ackage `([^`]+)`"),
)


def _failed_package(output: str) -> str | None:
    # uv wraps its messages to the terminal's width (80 columns without one): a sentence may span lines.
    flat = " ".join(output.split())
    for pattern in _PACKAGE_PATTERNS:
        match = pattern.search(flat)
        if match:
            return match.group(1)
    return None


def _uv() -> str:
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path.home() / ".local" / "bin"))
    if uv is None:
        raise ProjectDepsError(Path("."), "cannot install its dependencies: the uv installer is not on PATH")
    return uv


def _run_uv(project: ProjectPlan, args: list[str]) -> str:
    completed = subprocess.run(  # noqa: S603 - uv with arguments built here from the project
        [_uv(), *args], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip()
        detail = "\n".join(line for line in output.splitlines() if line.strip())[:2000]
        reason = f"cannot install its dependencies: {detail or 'uv failed'}"
        package = _failed_package(output)
        shipped = project.base.get(canonical_name(package)) if package else None
        if shipped:
            reason += f"\n  Atrium runs {package} {shipped}: the project must accept that version."
        raise ProjectDepsError(project.config_path, reason, package)
    return completed.stdout


def install(config_path: str | Path, root: Path, *, log: Any = None) -> Path | None:
    """Install the project's dependencies into its overlay, once per fingerprint.

    Returns the overlay's site-packages (None when the project needs no install). Raises
    ``ProjectDepsError`` naming the project and, where uv says which, the package.
    """
    say = log or (lambda message: None)
    project = plan(config_path)
    if not project.needs_install:
        say(f"{project.config_path}: no dependencies to install")
        return None
    target = _site_packages(root, project)
    if is_installed(root, project):
        say(f"{project.config_path}: dependencies up to date ({project.fingerprint})")
        return target
    root.mkdir(parents=True, exist_ok=True)
    # `make web` and `make worker` started together install the same project: one does, the other waits.
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_installed(root, project):
            say(f"{project.config_path}: dependencies up to date ({project.fingerprint})")
            return target
        say(f"{project.config_path}: installing dependencies into {overlay_dir(root, project)}")
        installed = _install_overlay(project, root)
    say(f"{project.config_path}: installed {', '.join(installed) or 'nothing new'}")
    return target


def _install_overlay(project: ProjectPlan, root: Path) -> list[str]:
    target = _site_packages(root, project)
    python = sys.executable
    with tempfile.TemporaryDirectory(dir=root, prefix=".installing-") as scratch:
        work = Path(scratch)
        wanted = [f"-e {directory}" for directory in project.packages]
        wanted += [f"-r {file}" for file in project.requirement_files]
        wanted += list(project.requirements)
        (work / "requirements.in").write_text("\n".join(wanted) + "\n")
        # Atrium's versions as constraints: the project resolves against what the platform runs.
        (work / "constraints.txt").write_text(
            "\n".join(f"{name}=={version}" for name, version in sorted(project.base.items())) + "\n"
        )
        resolved = _run_uv(
            project,
            [
                "pip",
                "compile",
                "--python",
                python,
                "--quiet",
                "--no-header",
                "--no-annotate",
                "--constraint",
                str(work / "constraints.txt"),
                str(work / "requirements.in"),
            ],
        )
        missing = [line for line in resolved.splitlines() if _wanted_line(line, project.base)]
        (work / "install.txt").write_text("\n".join(missing) + "\n")
        staging = work / "site-packages"
        if missing:
            _run_uv(
                project,
                [
                    "pip",
                    "install",
                    "--python",
                    python,
                    "--quiet",
                    "--no-deps",
                    "--target",
                    str(staging),
                    "-r",
                    str(work / "install.txt"),
                ],
            )
        staging.mkdir(exist_ok=True)
        final = overlay_dir(root, project)
        if final.exists():  # a half-finished earlier attempt
            shutil.rmtree(final)
        final.mkdir()
        staging.rename(target)
        (final / _COMPLETE).write_text(
            json.dumps({"project": str(project.config_path), "installed": missing}, indent=1)
        )
    return missing


def _wanted_line(line: str, base: Mapping[str, str]) -> bool:
    """A line of ``uv pip compile`` output that Atrium's environment does not already satisfy."""
    line = line.strip()
    if not line or line.startswith("#"):
        return False
    if line.startswith("-e "):
        return True
    name, sep, _version = line.partition("==")
    return not (sep and canonical_name(name.split("[")[0]) in base)


def load_env(config_path: Path, config: Mapping[str, Any]) -> list[str]:
    """Set the project's ``env`` in ``os.environ`` without overriding what is set; returns the names set."""
    env = config.get("env")
    if env is None:
        return []
    if isinstance(env, str):
        values = dotenv_values((config_path.parent / env).resolve())
    elif isinstance(env, Mapping):
        values = {str(k): (None if v is None else str(v)) for k, v in env.items()}
    else:
        raise ProjectDepsError(config_path, '"env" must be a path to a .env file or an object')
    applied = []
    for name, value in values.items():
        if value is not None and name not in os.environ:
            os.environ[name] = value
            applied.append(name)
    return applied


def activate(config_path: str | Path, config: Mapping[str, Any], root: Path) -> ProjectPlan:
    """Make the project importable in this process: its env, its overlay and its plain directories.

    Raises ``ProjectDepsError`` when the project needs an install that has not been done.
    """
    project = plan(config_path, config)
    load_env(project.config_path, config)
    if project.needs_install:
        if not is_installed(root, project):
            raise ProjectDepsError(
                project.config_path,
                f"its dependencies are not installed in {root}; run `ATRIUM_GRAPHS={project.config_path} "
                "infra/scripts/project-deps.sh` (make dev, web, worker and beat do)",
            )
        target = str(_site_packages(root, project))
        if target not in sys.path:
            # addsitedir, not sys.path.append: it runs the .pth files editable installs rely on.
            site.addsitedir(target)
    for directory in project.path_dirs:
        if str(directory) not in sys.path:
            sys.path.append(str(directory))
    return project


def default_root() -> Path:
    """``ATRIUM_PROJECT_DEPS_DIR``, else ``<ATRIUM_DATA_DIR or the checkout's .data>/projects``."""
    explicit = os.environ.get("ATRIUM_PROJECT_DEPS_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    data = os.environ.get("ATRIUM_DATA_DIR") or str(Path(__file__).resolve().parents[4] / ".data")
    return Path(data).expanduser().resolve() / "projects"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="project_deps.py")
    parser.add_argument("command", choices=["install"])
    parser.add_argument("config", help="the project's langgraph.json")
    parser.add_argument(
        "--root", type=Path, default=None, help="where overlays live (ATRIUM_PROJECT_DEPS_DIR)"
    )
    args = parser.parse_args(argv)
    root = (args.root or default_root()).resolve()
    try:
        install(args.config, root, log=lambda message: print(message, file=sys.stderr))
    except ProjectDepsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
