"""compose.yaml cannot run here (no Docker engine); keep it correct by checking its structure."""

from __future__ import annotations

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
