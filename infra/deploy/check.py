"""Render the Helm chart and validate what it renders; exit non-zero on the first kind of problem.

    python infra/deploy/check.py [--chart DIR] [--values FILE ...]

For each values file (default: the chart's `ci/*.yaml`), the chart is linted and rendered by Helm's
own Go engine (`helm-python-sdk`), and every rendered object is validated:
  - Kubernetes objects, strictly (unknown fields are errors), against the API schemas of the oldest
    and newest Kubernetes the chart supports (`kubernetes-validate` ships them);
  - KEDA objects against the schemas in infra/deploy/schemas/;
  - the chart's own rules: every container has CPU and memory requests and runs as non-root on a
    read-only root filesystem, the web containers have liveness and readiness probes, every
    Deployment but beat has a PodDisruptionBudget, images are pinned (no `latest`), and beat has one
    replica with the Recreate strategy; no container is privileged, adds a capability or may escalate
    privileges, and only pods that run sandboxes (they mount the sandboxes' volume at
    ATRIUM_SANDBOX_DIR) loosen seccomp, AppArmor or /proc, an unmasked /proc only in the pod's own
    user namespace.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import kubernetes_validate.utils
import yaml

HERE = Path(__file__).resolve().parent
CHART = HERE / "helm" / "atrium"
SCHEMAS = HERE / "schemas"
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
RELEASE, NAMESPACE = "atrium", "atrium"

# kubernetes-validate parses the (large, immutable) schema files again for every object: parse once.
kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=None)(
    kubernetes_validate.utils.schema_contents
)


def render(chart: Path, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart's objects as a fresh `helm install` would create them (hooks included)."""
    with helm.Chart.load(chart) as loaded:
        files = loaded.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects = []
    for name in sorted(files):
        if not name.endswith((".yaml", ".yml")):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(files[name]) if doc)
    return objects


def label(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def schema_errors(obj: dict[str, Any]) -> Iterator[str]:
    group = obj["apiVersion"].rsplit("/", 1)
    custom = SCHEMAS / f"{obj['kind'].lower()}-{group[0]}-{group[-1]}.json"
    if len(group) == 2 and "." in group[0] and not group[0].endswith(".k8s.io"):
        if not custom.is_file():
            yield f"{label(obj)}: no schema for {obj['apiVersion']} {obj['kind']} in {SCHEMAS}"
            return
        validator = jsonschema.Draft202012Validator(json.loads(custom.read_text()))
        for error in validator.iter_errors(obj):
            yield f"{label(obj)}: {'.'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        return
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(map(str, error.path)) or "(root)"
            yield f"{label(obj)} (Kubernetes {version}): {path}: {error.message}"
        except kubernetes_validate.SchemaNotFoundError:
            yield f"{label(obj)}: unknown to Kubernetes {version}"


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
        return obj["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return None


SANDBOX_VOLUME = "sandboxes"
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def loosenings(obj: dict[str, Any], container: dict[str, Any]) -> set[str]:
    """What a container's pod relaxes of the runtime's defaults (what bubblewrap needs)."""
    spec = obj["spec"]["template"]["spec"]
    annotations = obj["spec"]["template"]["metadata"].get("annotations") or {}
    security = container.get("securityContext", {})
    seccomp = security.get("seccompProfile") or spec.get("securityContext", {}).get("seccompProfile") or {}
    found = set()
    if seccomp.get("type") == "Unconfined":
        found.add("seccomp Unconfined")
    if annotations.get(APPARMOR_ANNOTATION + container["name"]) == "unconfined":
        found.add("AppArmor unconfined")
    if security.get("procMount") == "Unmasked":
        found.add("procMount Unmasked")
    return found


def runs_sandboxes(container: dict[str, Any]) -> bool:
    """The container mounts the sandboxes' volume where its ATRIUM_SANDBOX_DIR says."""
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    return SANDBOX_VOLUME in mounts and mounts[SANDBOX_VOLUME] == env.get("ATRIUM_SANDBOX_DIR")


def rule_errors(objects: list[dict[str, Any]]) -> Iterator[str]:
    pdb_selectors = [
        o["spec"]["selector"]["matchLabels"] for o in objects if o["kind"] == "PodDisruptionBudget"
    ]
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        name = label(obj)
        if not spec.get("securityContext", {}).get("runAsNonRoot"):
            yield f"{name}: pod does not set runAsNonRoot"
        for container in spec["containers"]:
            requests = container.get("resources", {}).get("requests", {})
            if not {"cpu", "memory"} <= set(requests):
                yield f"{name}: container {container['name']} lacks cpu and memory requests"
            if not container.get("securityContext", {}).get("readOnlyRootFilesystem"):
                yield f"{name}: container {container['name']} has a writable root filesystem"
            image = container["image"]
            if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
                yield f"{name}: image {image} is not pinned"
            if container["name"] == "web" and not {"livenessProbe", "readinessProbe"} <= set(container):
                yield f"{name}: web container lacks liveness or readiness probe"
            security = container.get("securityContext", {})
            if security.get("privileged") or security.get("capabilities", {}).get("add"):
                yield f"{name}: container {container['name']} is privileged or adds capabilities"
            if security.get("allowPrivilegeEscalation") is not False:
                yield f"{name}: container {container['name']} may escalate privileges"
            loosened = loosenings(obj, container)
            if loosened and not runs_sandboxes(container):
                what = sorted(loosened)
                yield f"{name}: container {container['name']} loosens {what} but runs no sandboxes"
            if "procMount Unmasked" in loosened and spec.get("hostUsers") is not False:
                yield f"{name}: container {container['name']} unmasks /proc outside a pod user namespace"
        if obj["kind"] != "Deployment":
            continue
        labels = obj["spec"]["template"]["metadata"]["labels"]
        covered = any(selector.items() <= labels.items() for selector in pdb_selectors)
        if labels.get("app.kubernetes.io/component") == "beat":
            if obj["spec"].get("replicas") != 1 or obj["spec"].get("strategy", {}).get("type") != "Recreate":
                yield f"{name}: beat must have exactly one replica and the Recreate strategy"
        elif not covered:
            yield f"{name}: no PodDisruptionBudget selects its pods"


def check(chart: Path, values_files: list[Path]) -> list[str]:
    problems: list[str] = []
    for values_file in values_files:
        values = yaml.safe_load(values_file.read_text()) or {}
        where = values_file.name
        lint = helm.lint(chart, values, strict=True)
        problems += [f"{where}: helm lint: {error}" for error in lint.get("errors") or []]
        problems += [
            f"{where}: helm lint: {message['path']}: {message['error']}"
            for message in lint.get("messages") or []
            if message.get("severity", 0) > 1  # 1 is informational ("icon is recommended")
        ]
        try:
            objects = render(chart, values)
        except helm.HelmError as error:
            problems.append(f"{where}: helm template failed: {error}")
            continue
        if not objects:
            problems.append(f"{where}: the chart rendered nothing")
        for obj in objects:
            problems += [f"{where}: {problem}" for problem in schema_errors(obj)]
        problems += [f"{where}: {problem}" for problem in rule_errors(objects)]
        print(f"{where}: {len(objects)} objects rendered and checked", file=sys.stderr)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chart", type=Path, default=CHART)
    parser.add_argument(
        "--values", type=Path, nargs="*", help="values files (default: the chart's ci/*.yaml)"
    )
    args = parser.parse_args()
    values_files = args.values or sorted((args.chart / "ci").glob("*.yaml"))
    problems = check(args.chart, values_files)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"Helm chart valid for {len(values_files)} value sets", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
