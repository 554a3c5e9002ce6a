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


def pods(objects: dict[str, dict]) -> dict[str, dict]:
    return {name: obj for name, obj in objects.items() if obj["kind"] in {"Deployment", "Job"}}


def extra_privileges(obj: dict) -> dict:
    """What a pod gets beyond the chart's common securityContext: exactly what bubblewrap needs."""
    template = obj["spec"]["template"]
    base = defaults_chart_values()["securityContext"]
    security = container(obj)["securityContext"]
    return {
        "container": {key: value for key, value in security.items() if base.get(key) != value},
        "hostUsers": template["spec"].get("hostUsers"),
        "apparmor": {
            key: value
            for key, value in (template["metadata"].get("annotations") or {}).items()
            if key.startswith("container.apparmor")
        },
    }


def defaults_chart_values() -> dict:
    return yaml.safe_load((CHART / "values.yaml").read_text())


def test_pods_that_run_sandboxes_get_exactly_the_stated_privileges_and_no_others():
    objects = pods(by_name(check.render(CHART, defaults())))
    sandboxed = {
        "Deployment/atrium-web": "web",
        "Deployment/atrium-worker-runs": "worker",
    }
    for name, obj in objects.items():
        extra = extra_privileges(obj)
        if name in sandboxed:
            assert extra == {
                "container": {"seccompProfile": {"type": "Unconfined"}, "procMount": "Unmasked"},
                "hostUsers": False,
                "apparmor": {check.APPARMOR_ANNOTATION + sandboxed[name]: "unconfined"},
            }, name
        else:
            assert extra == {"container": {}, "hostUsers": None, "apparmor": {}}, name
        security = container(obj)["securityContext"]
        assert security["capabilities"] == {"drop": ["ALL"]}, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert "privileged" not in security, name
        assert obj["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 10001, name


def test_web_and_every_worker_share_the_sandboxes_volume_at_the_sandbox_dir():
    objects = by_name(check.render(CHART, defaults()))
    claim = objects["PersistentVolumeClaim/atrium-sandboxes"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    for name in ("web", "worker-runs", "worker-default", "worker-webhooks"):
        obj = objects[f"Deployment/atrium-{name}"]
        volumes = {v["name"]: v for v in obj["spec"]["template"]["spec"]["volumes"]}
        assert volumes["sandboxes"]["persistentVolumeClaim"] == {"claimName": "atrium-sandboxes"}, name
        assert check.runs_sandboxes(container(obj)), name
    for name in ("Deployment/atrium-beat", "Job/atrium-migrate"):
        assert "sandboxes" not in {v["name"] for v in objects[name]["spec"]["template"]["spec"]["volumes"]}


def test_switching_sandboxes_off_removes_every_privilege_and_the_volume():
    values = defaults() | {"sandbox": {**defaults_chart_values()["sandbox"], "enabled": False}}
    objects = by_name(check.render(CHART, values))
    assert not [name for name in objects if name.startswith("PersistentVolumeClaim/")]
    for name, obj in pods(objects).items():
        assert extra_privileges(obj) == {"container": {}, "hostUsers": None, "apparmor": {}}, name
        assert "sandboxes" not in {v["name"] for v in obj["spec"]["template"]["spec"]["volumes"]}, name


def test_a_loosened_pod_that_runs_no_sandboxes_fails_the_check():
    # given beat with the sandbox's seccomp profile and /proc, and a web container that adds a capability
    objects = check.render(CHART, defaults())
    beat = next(o for o in objects if o["metadata"]["name"] == "atrium-beat")
    beat_security = container(beat)["securityContext"]
    beat_security.update({"seccompProfile": {"type": "Unconfined"}, "procMount": "Unmasked"})
    web = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "atrium-web")
    container(web)["securityContext"]["capabilities"]["add"] = ["SYS_ADMIN"]

    # when
    problems = list(check.rule_errors(objects))

    # then
    assert problems == [
        "Deployment/atrium-beat: container beat loosens ['procMount Unmasked', 'seccomp Unconfined'] "
        "but runs no sandboxes",
        "Deployment/atrium-beat: container beat unmasks /proc outside a pod user namespace",
        "Deployment/atrium-web: container web is privileged or adds capabilities",
    ]
