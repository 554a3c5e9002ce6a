"""compose.yaml cannot run here (no Docker engine); keep it correct by checking its structure."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_the_stack_has_its_services():
    assert set(load()["services"]) >= {"postgres", "redis", "web", "worker", "beat"}


def test_web_worker_and_beat_share_one_backend_image():
    services = load()["services"]
    images = {services[name].get("image") for name in ("web", "worker", "beat")}
    assert len(images) == 1
    assert None not in images
    assert services["web"]["build"]["dockerfile"].startswith("infra/docker/")
    assert (ROOT / services["web"]["build"]["dockerfile"]).is_file()


def test_every_service_is_healthchecked_and_waits_for_healthy_dependencies():
    services = load()["services"]
    for name, service in services.items():
        assert "healthcheck" in service, name
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services
            assert condition == {"condition": "service_healthy"} or condition.get("condition") in {
                "service_healthy",
                "service_completed_successfully",
            }, (name, dependency)


def test_the_app_services_get_the_connection_urls():
    services = load()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert "DATABASE_URL" in env, name
        assert "REDIS_URL" in env, name


def test_runs_and_short_tasks_have_separate_workers_covering_every_queue():
    from django.conf import settings

    from atrium.runtime.dispatch import RUNS_QUEUE, WEBHOOKS_QUEUE

    services = load()["services"]
    consumed = {}
    for name, service in services.items():
        command = service.get("command") or []
        if "worker" in command:
            consumed[name] = command[command.index("-Q") + 1].split(",")
    assert consumed == {
        "worker": [RUNS_QUEUE],
        "worker-default": [settings.CELERY_TASK_DEFAULT_QUEUE],
        "worker-webhooks": [WEBHOOKS_QUEUE],
    }


def test_beat_keeps_its_state_in_the_writable_tmp_of_a_read_only_container():
    services = load()["services"]
    command = services["beat"]["command"]
    assert command[command.index("-s") + 1].startswith("/tmp/")
    assert "--pidfile=" in command  # the default pidfile would go to the read-only code directory
    for name in ("web", "worker", "worker-default", "worker-webhooks", "beat", "migrate"):
        assert services[name]["read_only"] is True, name
        assert services[name]["tmpfs"] == ["/tmp"], name


def pinned(image: str) -> bool:
    """An exact release or a digest; never a moving tag such as `3.11`, `15` or `latest`. Postgres
    numbers its releases major.minor (15.14), everything else here major.minor.patch."""
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    parts = 2 if name.rsplit("/", 1)[-1] == "postgres" else 3
    return bool(re.match(r"^\d+(\.\d+){" + str(parts - 1) + r"}(-[a-z0-9.-]+)?$", tag))


def test_third_party_images_are_pinned_to_exact_releases():
    services = load()["services"]
    for name in ("postgres", "redis"):
        assert pinned(services[name]["image"]), services[name]["image"]


def dockerfile() -> str:
    return (ROOT / "infra" / "docker" / "backend.Dockerfile").read_text()


def stages() -> list[tuple[str, str]]:
    """(base image, stage name) of every FROM."""
    return re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)", dockerfile(), flags=re.MULTILINE)


def test_pinned_refuses_moving_tags():
    assert not pinned("postgres:15-bookworm")
    assert not pinned("python:3.11-slim-bookworm")
    assert not pinned("redis:latest")
    assert pinned("redis:7.4.5-bookworm")
    assert pinned("python@sha256:" + "0" * 64)


def test_the_image_is_multi_stage_from_pinned_bases():
    found = stages()
    # `project` is the empty stand-in for the served LangGraph project's build context.
    assert [name for _, name in found] == ["project", "frontend", "python", "runtime"]
    for base, name in found:
        assert pinned(base) or (name, base) == ("project", "scratch"), base


def test_the_served_project_is_installed_in_the_image_where_it_runs():
    text = dockerfile()
    build, runtime = text.split("AS python", 1)[1].split("AS runtime", 1)
    # Installed at the paths the runtime stage uses (the overlay's fingerprint and editables name them).
    assert "COPY --from=project / /app/project/" in build
    assert '-P backend/atrium/runtime/engine/project_deps.py install "$ATRIUM_GRAPHS"' in build
    assert "find /app/project -name .env -type f -delete" in build  # no project secrets in the image
    for line in (
        "COPY --from=python /opt/atrium-projects /opt/atrium-projects",
        "COPY --from=python /app/project /app/project",
    ):
        assert line in runtime
    assert "ATRIUM_GRAPHS=$ATRIUM_GRAPHS ATRIUM_PROJECT_DEPS_DIR=/opt/atrium-projects" in runtime
    compose = load()["x-backend"]["build"]
    assert compose["additional_contexts"]["project"] == "${ATRIUM_PROJECT_DIR:-./infra/docker/no-project}"
    assert compose["args"]["ATRIUM_GRAPHS"] == "${ATRIUM_PROJECT_GRAPHS:-/app/agents/langgraph.json}"


def test_the_runtime_stage_is_non_root_health_checked_and_serves_the_built_web_app():
    runtime = dockerfile().split("AS runtime", 1)[1]
    users = re.findall(r"^USER\s+(\S+)", runtime, flags=re.MULTILINE)
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*", runtime, flags=re.MULTILINE)
    assert "COPY --from=frontend /src/frontend/dist /app/frontend/dist" in runtime
    assert "ATRIUM_FRONTEND_DIST=/app/frontend/dist" in runtime
    # Small: no compilers and no dev dependencies in the final stage; its one package install is
    # bubblewrap (the sandbox provider), without recommends and with the apt lists removed.
    installs = re.findall(r"apt-get install[^\n]*", runtime)
    assert installs == [
        "apt-get install -y --no-install-recommends bubblewrap && rm -rf /var/lib/apt/lists/*"
    ]
    assert "uv sync --frozen --no-dev" in dockerfile()


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".data", ".venv", ".git", "frontend/node_modules"} <= ignored


def test_the_database_image_has_pgvector_for_semantic_store_search():
    # `store.index` keeps vectors in pgvector (docs/adr/0022); the major version stays that of
    # existing volumes.
    image = load()["services"]["postgres"]["image"]
    assert image.startswith("pgvector/pgvector:")
    assert image.endswith("-pg15")


# What bubblewrap needs in a container (docs/sandboxes.md, "Deploying" says why, one line each).
SANDBOX_SECURITY = [
    "no-new-privileges:true",
    "seccomp=unconfined",
    "apparmor=unconfined",
    "systempaths=unconfined",
]
SANDBOX_DIR = "/var/lib/atrium/sandboxes"


def test_only_web_and_the_run_worker_get_the_sandbox_privileges_and_exactly_those():
    services = load()["services"]
    assert services["web"]["security_opt"] == SANDBOX_SECURITY
    # The worker also gets its own cgroup namespace and a writable cgroup, for a cgroup per command.
    worker = services["worker"]
    assert worker["security_opt"] == [*SANDBOX_SECURITY, "writable-cgroups=true"]
    assert worker["cgroup"] == "private"
    # Root only to hand the cgroup to 10001, with the three capabilities that takes.
    assert worker["user"] == "0:0"
    assert worker["cap_drop"] == ["ALL"]
    assert worker["cap_add"] == ["CHOWN", "SETUID", "SETGID"]
    assert worker["entrypoint"] == [
        "python", "-m", "atrium_agents.sandbox.entrypoint", "--user", "10001:10001", "--",
    ]  # fmt: skip
    for name, service in services.items():
        assert not service.get("privileged"), name
        if name not in {"web", "worker"}:
            assert service.get("security_opt", ["no-new-privileges:true"]) == ["no-new-privileges:true"], name
            assert "cap_add" not in service, name
            assert "user" not in service, name
            assert "cgroup" not in service, name
    documented = (ROOT / "docs" / "sandboxes.md").read_text()
    stated = [*SANDBOX_SECURITY[1:], "writable-cgroups=true", "cgroup: private", "CHOWN, SETUID, SETGID"]
    for privilege in stated:
        assert f"`{privilege}`" in documented, privilege


def test_the_worker_entrypoint_is_in_the_image_and_the_worker_has_resource_limits():
    from atrium_agents.sandbox import entrypoint

    assert callable(entrypoint.main)
    worker = load()["services"]["worker"]
    assert worker["mem_limit"] == "${ATRIUM_WORKER_MEMORY_LIMIT:-4g}"
    assert worker["cpus"] == "${ATRIUM_WORKER_CPUS:-2}"
    assert worker["pids_limit"] == 4096
    memory = worker["environment"]["ATRIUM_SANDBOX_MEMORY_BYTES"]
    assert memory == "${ATRIUM_SANDBOX_MEMORY_BYTES:-1073741824}"


def test_sandboxes_live_on_a_volume_shared_by_web_and_the_workers_that_touch_them():
    compose = load()
    services = compose["services"]
    assert "sandboxes" in compose["volumes"]
    assert compose["x-backend"]["environment"]["ATRIUM_SANDBOX_DIR"] == SANDBOX_DIR
    for name in ("web", "worker", "worker-default"):
        assert services[name]["volumes"] == [f"sandboxes:{SANDBOX_DIR}"], name
    # A fresh named volume copies the image directory's owner: the app's uid must own it there.
    assert f"install -d -o 10001 -g 10001 -m 0711 {SANDBOX_DIR}" in dockerfile()
    assert "bubblewrap" in dockerfile().split("AS runtime", 1)[1]
