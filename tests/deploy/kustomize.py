"""Renders the kustomize overlays: ``kubectl kustomize`` when kubectl is installed, else a small renderer.

No kustomize ships on PyPI for Python 3.11 (``pykustomize`` needs 3.14; the ``kustomize`` package is another
tool), so :func:`render_lite` implements the subset of kustomize these overlays use — ``resources``,
``namespace``, ``labels`` (with ``includeTemplates``), ``images``, ``replicas``, ``patches`` (strategic
merge by name, and JSON 6902 lists with a ``target``) and ``configMapGenerator`` from files (with
``generatorOptions``' labels and no name hash) — and a test checks it against kubectl where both exist.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

#: Kinds that live outside namespaces (the namespace transformer leaves them alone).
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}
#: List fields merged element-wise by a key in strategic merge patches (the rest are replaced).
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}


def render(directory: Path) -> list[dict[str, Any]]:
    """Every object of a kustomization, rendered by kubectl when present."""
    kubectl = shutil.which("kubectl")
    if kubectl:
        return render_kubectl(directory, kubectl)
    return render_lite(directory)


def render_kubectl(directory: Path, kubectl: str = "kubectl") -> list[dict[str, Any]]:
    """``kubectl kustomize`` (offline)."""
    out = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=True)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def render_lite(directory: Path) -> list[dict[str, Any]]:
    """The subset of kustomize these overlays use, in Python."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    objects: list[dict[str, Any]] = []
    for resource in spec.get("resources", []):
        path = directory / resource
        if path.is_dir():
            objects += render_lite(path)
        else:
            objects += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    objects += _generated_config_maps(directory, spec)
    for patch in spec.get("patches", []):
        body = yaml.safe_load((directory / patch["path"]).read_text())
        target = patch.get("target", {})
        for obj in objects:
            if isinstance(body, list):  # JSON 6902
                if _matches(obj, target):
                    for operation in body:
                        _json_patch(obj, operation)
            elif _matches(obj, target or {"kind": body["kind"], "name": body["metadata"]["name"]}):
                merged = _strategic_merge(obj, body)
                obj.clear()
                obj.update(merged)
    for rule in spec.get("replicas", []):
        for obj in objects:
            if obj["metadata"]["name"] == rule["name"] and "replicas" in obj.get("spec", {}):
                obj["spec"]["replicas"] = rule["count"]
    for image in spec.get("images", []):
        for obj in objects:
            for container in _containers(obj):
                name, _, tag = container["image"].rpartition(":")
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
    namespace = spec.get("namespace")
    if namespace:
        for obj in objects:
            if obj["kind"] == "Namespace":
                obj["metadata"]["name"] = namespace
            elif obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = namespace
            for subject in obj.get("subjects", []) if obj["kind"] == "RoleBinding" else []:
                if subject.get("kind") == "ServiceAccount":
                    subject["namespace"] = namespace
    for label in spec.get("labels", []):
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(label["pairs"])
            template = obj.get("spec", {}).get("template")
            if label.get("includeTemplates") and template is not None:
                template.setdefault("metadata", {}).setdefault("labels", {}).update(label["pairs"])
    return objects


def _matches(obj: dict[str, Any], target: dict[str, Any]) -> bool:
    return all(
        obj.get("kind") == v if k == "kind" else obj["metadata"].get(k) == v for k, v in target.items()
    )


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    pod = obj.get("spec", {}).get("template", {}).get("spec", {})
    return [*pod.get("containers", []), *pod.get("initContainers", [])]


def _strategic_merge(base: Any, patch: Any, field: str = "") -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _strategic_merge(base[key], value, key) if key in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and field in MERGE_KEYS:
        key = MERGE_KEYS[field]
        merged_list = [dict(item) for item in base]
        added = []
        for item in patch:
            existing = next((m for m in merged_list if m.get(key) == item.get(key)), None)
            if existing is None:
                added.append(copy.deepcopy(item))
            else:
                merged_list[merged_list.index(existing)] = _strategic_merge(existing, item)
        return added + merged_list  # kustomize puts elements new to the list first
    return copy.deepcopy(patch)


def _json_patch(obj: dict[str, Any], operation: dict[str, Any]) -> None:
    *parents, last = [part for part in operation["path"].split("/") if part]
    node: Any = obj
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if operation["op"] in ("replace", "add"):
        if isinstance(node, list):
            node[int(last)] = copy.deepcopy(operation["value"])
        else:
            node[last] = copy.deepcopy(operation["value"])
    elif operation["op"] == "remove":
        del node[int(last) if isinstance(node, list) else last]
    else:
        raise NotImplementedError(operation["op"])


def _generated_config_maps(directory: Path, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """``configMapGenerator`` entries made of files (the subset the Grafana dashboards use)."""
    options = spec.get("generatorOptions", {})
    assert not spec.get("configMapGenerator") or options.get("disableNameSuffixHash"), (
        "name hashes are not rendered"
    )
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": entry["name"], "labels": dict(options.get("labels", {}))},
            "data": {Path(f).name: (directory / f).read_text() for f in entry.get("files", [])},
        }
        for entry in spec.get("configMapGenerator", [])
    ]
