"""The Helm chart under infra/deploy/: rendered by Helm's engine, validated by infra/deploy/check.py."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "infra" / "deploy" / "helm" / "atrium"
_spec = importlib.util.spec_from_file_location("deploy_check", ROOT / "infra" / "deploy" / "check.py")
assert _spec is not None
assert _spec.loader is not None
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)


def defaults() -> dict:
    return yaml.safe_load((CHART / "ci" / "default-values.yaml").read_text())


def by_name(objects: list[dict]) -> dict[str, dict]:
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in objects}


def container(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]["containers"][0]


def test_every_ci_value_set_renders_valid_manifests():
    assert check.check(CHART, sorted((CHART / "ci").glob("*.yaml"))) == []


def test_runs_and_short_tasks_have_their_own_workers_each_scaled_on_its_queue():
    objects = by_name(check.render(CHART, defaults()))
    for pool, queue in (("runs", "runs"), ("default", "default"), ("webhooks", "webhooks")):
        command = container(objects[f"Deployment/atrium-worker-{pool}"])["command"]
        assert command[command.index("-Q") + 1] == queue
        scaled = objects[f"ScaledObject/atrium-worker-{pool}"]["spec"]
        assert scaled["scaleTargetRef"]["name"] == f"atrium-worker-{pool}"
        assert [t["metadata"]["listName"] for t in scaled["triggers"]] == [queue]
        assert "replicas" not in objects[f"Deployment/atrium-worker-{pool}"]["spec"]  # KEDA owns it


def test_migrations_run_as_a_hook_before_install_and_upgrade_with_the_secret_already_there():
    objects = by_name(check.render(CHART, defaults()))
    job = objects["Job/atrium-migrate"]
    secret = objects["Secret/atrium-env"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert container(job)["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )


def test_web_probes_use_the_configured_health_paths_and_an_allowed_host():
    values = defaults() | {
        "probes": {"livenessPath": "/healthz", "readinessPath": "/readyz"},
        "config": {"ATRIUM_ALLOWED_HOSTS": "atrium.acme.test, other.acme.test"},
    }
    web = container(by_name(check.render(CHART, values))["Deployment/atrium-web"])
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert web[probe]["httpGet"]["httpHeaders"] == [{"name": "Host", "value": "atrium.acme.test"}]


def test_the_chart_refuses_to_render_without_the_required_secrets():
    with pytest.raises(check.helm.HelmError, match="DATABASE_URL"):
        check.render(CHART, {})
    without_vault = defaults()
    del without_vault["secrets"]["values"]["ATRIUM_VAULT_KEYS"]
    with pytest.raises(check.helm.HelmError, match="ATRIUM_VAULT_KEYS"):
        check.render(CHART, without_vault)


def test_an_invalid_manifest_fails_the_check(tmp_path):
    broken = tmp_path / "atrium"
    shutil.copytree(CHART, broken)
    beat = broken / "templates" / "beat.yaml"
    beat.write_text(beat.read_text().replace("revisionHistoryLimit: 5", "revisionHistoryLimt: 5"))
    problems = check.check(broken, [broken / "ci" / "default-values.yaml"])
    assert problems
    assert all("Deployment/atrium-beat" in p and "revisionHistoryLimt" in p for p in problems)


def test_a_rule_breach_fails_the_check(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(defaults() | {"securityContext": {"readOnlyRootFilesystem": False}}))
    problems = check.check(CHART, [values])
    assert "values.yaml: Deployment/atrium-web: container web has a writable root filesystem" in problems
