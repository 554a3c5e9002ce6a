"""A sandbox backend that finds the run's sandbox on every call.

The agent graph is built once per assistant settings and shared by every thread, so it cannot hold one
sandbox. `RunScopedSandbox` is that graph's backend: each call reads the run's ids (context first,
``config["configurable"]`` second, as memory does) and asks the provider for the sandbox labelled with
them. ``thread`` scope gives each conversation its own sandbox, reused across its turns; ``assistant``
scope shares one among all conversations with the assistant. Both labels carry ``org_id`` so two
tenants never meet in one sandbox.

Clients may choose thread ids, so a thread id alone does not name one conversation: a thread deleted
and created again under the same id is another one. The runtime gives each thread a generation token
(``config["configurable"]["__atrium_thread_generation"]``, a key clients cannot set), and a ``thread``
sandbox is labelled with it too: the new thread never finds the old one's files.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal

from deepagents.backends.protocol import (
    ExecuteResponse,
    FileDownloadResponse,
    FileUploadResponse,
    SandboxBackendProtocol,
)
from deepagents.backends.sandbox import BaseSandbox
from langgraph.config import get_config
from langgraph.runtime import get_runtime

from atrium_agents.outbound import NoOutboundError, outbound_of
from atrium_agents.sandbox.bubblewrap import EXIT_SANDBOX_ERROR, BubblewrapProvider, BubblewrapSandbox, Limits
from atrium_agents.sandbox.cgroups import cgroup_tree_from_env
from atrium_agents.sandbox.egress import EgressPolicy
from atrium_agents.sandbox.provider import SandboxError, SandboxProvider, validate_labels

logger = logging.getLogger(__name__)

SandboxScope = Literal["thread", "assistant"]
SANDBOX_DIR_ENV = "ATRIUM_SANDBOX_DIR"
SANDBOX_TTL_ENV = "ATRIUM_SANDBOX_TTL_SECONDS"
SANDBOX_PROVIDER_ENV = "ATRIUM_SANDBOX_PROVIDER"
SANDBOX_MEMORY_ENV = "ATRIUM_SANDBOX_MEMORY_BYTES"
SANDBOX_CPUS_ENV = "ATRIUM_SANDBOX_CPUS"
DEFAULT_PROVIDER_SPEC = "atrium_agents.sandbox.run_scoped:default_provider"
THREAD_GENERATION_KEY = "__atrium_thread_generation"
THREAD_GENERATION_LABEL = "thread_generation"

_default_provider: SandboxProvider | None = None
_default_lock = threading.Lock()


def default_provider() -> SandboxProvider:
    """The worker's provider: ``$ATRIUM_SANDBOX_PROVIDER`` (``package.module:factory``) when it names
    another one, else bubblewrap sandboxes under ``$ATRIUM_SANDBOX_DIR``, deleted by beat after
    ``$ATRIUM_SANDBOX_TTL_SECONDS`` unused (default a week), each command in a cgroup of
    ``$ATRIUM_SANDBOX_MEMORY_BYTES`` and ``$ATRIUM_SANDBOX_CPUS`` where ``$ATRIUM_SANDBOX_CGROUP``
    finds a tree (`cgroups`). Built once per process."""
    global _default_provider
    with _default_lock:
        if _default_provider is None:
            spec = os.environ.get(SANDBOX_PROVIDER_ENV) or DEFAULT_PROVIDER_SPEC
            if spec != DEFAULT_PROVIDER_SPEC:
                module, _, name = spec.partition(":")
                _default_provider = getattr(importlib.import_module(module), name)()
            else:
                root = os.environ.get(SANDBOX_DIR_ENV) or os.path.join(
                    tempfile.gettempdir(), "atrium-sandboxes"
                )
                ttl = float(os.environ.get(SANDBOX_TTL_ENV) or 7 * 24 * 3600)
                _default_provider = BubblewrapProvider(
                    root, ttl_seconds=ttl, limits=limits_from_env(), cgroups=cgroup_tree_from_env()
                )
        return _default_provider


def limits_from_env() -> Limits:
    """The default `Limits` with the summed memory and CPU quota of the environment, when set."""
    limits = Limits()
    if memory := os.environ.get(SANDBOX_MEMORY_ENV):
        limits = dataclasses.replace(limits, total_memory_bytes=int(memory))
    if cpus := os.environ.get(SANDBOX_CPUS_ENV):
        limits = dataclasses.replace(limits, cpus=float(cpus) if float(cpus) > 0 else None)
    return limits


def run_labels(scope: SandboxScope) -> dict[str, str]:
    """The labels of the current run's sandbox; fails closed when an id is missing."""
    try:
        configurable: dict[str, Any] = get_config().get("configurable", {})
    except RuntimeError:
        configurable = {}
    try:
        context: Any = get_runtime().context
    except RuntimeError:
        context = None
    labels = {}
    for name in _label_names(scope):
        value = getattr(context, name, None) or configurable.get(name)
        if not value:
            raise SandboxError(f"{name} is required to find the run's sandbox; the runtime must supply it")
        labels[name] = str(value)
    return validate_labels(_with_generation(scope, labels, configurable))


def labels_from(scope: SandboxScope, configurable: Mapping[str, Any]) -> dict[str, str] | None:
    """The sandbox labels a run's ``config["configurable"]`` names, or None when an id is absent."""
    values = {name: configurable.get(name) for name in _label_names(scope)}
    if not all(values.values()):
        return None
    labels = {name: str(value) for name, value in values.items()}
    return validate_labels(_with_generation(scope, labels, configurable))


def _with_generation(
    scope: SandboxScope, labels: dict[str, str], configurable: Mapping[str, Any]
) -> dict[str, str]:
    """A thread sandbox's labels with the thread's generation, when the runtime gives one (threads
    created before generations existed have none and keep their sandbox). Only from the config: the
    context is the client's to fill."""
    generation = configurable.get(THREAD_GENERATION_KEY)
    if scope == "thread" and generation:
        return {**labels, THREAD_GENERATION_LABEL: str(generation)}
    return labels


def _label_names(scope: SandboxScope) -> tuple[str, str]:
    return ("org_id", "thread_id" if scope == "thread" else "assistant_id")


class RunScopedSandbox(BaseSandbox):
    """Delegates to the sandbox of the current run; problems become errors the agent reads."""

    def __init__(
        self,
        scope: SandboxScope,
        provider: Callable[[], SandboxProvider] = default_provider,
        *,
        egress: EgressPolicy | None = None,
    ) -> None:
        self._scope = scope
        self._provider = provider
        self._egress = egress if egress is not None and egress.rules else None

    def _sandbox(self) -> SandboxBackendProtocol:
        return self._provider().get_or_create(run_labels(self._scope))

    @property
    def id(self) -> str:
        return self._sandbox().id

    def execute(self, command: str, *, timeout: int | None = None) -> ExecuteResponse:
        try:
            sandbox = self._sandbox()
        except Exception as exc:
            logger.exception("no sandbox for this run")
            return ExecuteResponse(output=f"[sandbox] unavailable: {exc}", exit_code=EXIT_SANDBOX_ERROR)
        if self._egress is None:
            return sandbox.execute(command, timeout=timeout)
        if not isinstance(sandbox, BubblewrapSandbox):  # fail closed: no egress without our proxy
            message = "[sandbox] this sandbox provider has no egress proxy; network access is unavailable"
            return ExecuteResponse(output=message, exit_code=EXIT_SANDBOX_ERROR)
        # The run's outbound guard decides where the proxy may connect; without one nothing goes out.
        try:
            guard = outbound_of(get_config())
        except (RuntimeError, NoOutboundError):
            guard = None
        return sandbox.execute(
            command, timeout=timeout, egress=dataclasses.replace(self._egress, guard=guard)
        )

    def upload_files(self, files: list[tuple[str, bytes]]) -> list[FileUploadResponse]:
        try:
            sandbox = self._sandbox()
        except Exception:
            logger.exception("no sandbox for this run")
            return [FileUploadResponse(path=path, error="permission_denied") for path, _ in files]
        return sandbox.upload_files(files)

    def download_files(self, paths: list[str]) -> list[FileDownloadResponse]:
        try:
            sandbox = self._sandbox()
        except Exception:
            logger.exception("no sandbox for this run")
            return [FileDownloadResponse(path=path, error="permission_denied") for path in paths]
        return sandbox.download_files(paths)
