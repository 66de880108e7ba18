"""The Kubernetes driver against a stand-in API server (Deployment scale subresource)."""

from __future__ import annotations

import json

import pytest

from services.autoscaler.controller import Autoscaler
from services.autoscaler.drivers import KubernetesDriver, deployment_name
from services.autoscaler.policies import Policy, PolicyStore
from services.autoscaler.settings import AutoscalerSettings
from services.common.errors import NotFound
from tests.ops.kube_stub import KubeStub
from tests.ops.test_autoscaler_loop import FakeSource

pytestmark = pytest.mark.contract


def settings(url: str, token: str = "t0ken") -> AutoscalerSettings:
    return AutoscalerSettings(
        driver="kubernetes", kubernetes_api_url=url, kubernetes_token=token, kubernetes_namespace="serving"
    )


def test_deployment_names_are_dns_labels() -> None:
    assert deployment_name("meshserve-worker-{target}", "My_Model.v2") == "meshserve-worker-my-model-v2"


async def test_reads_and_patches_the_scale_subresource() -> None:
    deployments = {("serving", "meshserve-worker"): 1, ("serving", "meshserve-worker-resnet"): 2}
    with KubeStub("t0ken", deployments) as stub:
        driver = KubernetesDriver(settings(stub.url))
        assert await driver.current("*") == 1
        assert await driver.current("resnet") == 2
        await driver.apply("resnet", 4, "load")
        assert stub.deployments[("serving", "meshserve-worker-resnet")] == 4
        patch = stub.requests[-1]
        assert patch["method"] == "PATCH"
        assert patch["path"] == "/apis/apps/v1/namespaces/serving/deployments/meshserve-worker-resnet/scale"
        assert patch["content_type"].startswith("application/merge-patch+json")
        assert json.loads(patch["body"]) == {"spec": {"replicas": 4}}
        assert await driver.current("resnet") == 4
        with pytest.raises(NotFound):
            await driver.current("unknown")


async def test_control_loop_drives_a_deployment() -> None:
    with KubeStub("t0ken", {("serving", "meshserve-worker-m"): 1}) as stub:
        store = PolicyStore()
        store.put(Policy(target="m", target_metric="queue_depth", target_value=2, max_replicas=5))
        source = FakeSource()
        source.queue_depth = 6
        scaler = Autoscaler(store, source, KubernetesDriver(settings(stub.url)), period_seconds=1)
        [decision] = await scaler.evaluate_once()
        assert decision.driver == "kubernetes" and decision.applied
        assert stub.deployments[("serving", "meshserve-worker-m")] == 2


async def test_refused_credentials_are_recorded_as_an_unapplied_decision() -> None:
    with KubeStub("right", {("serving", "meshserve-worker-m"): 1}) as stub:
        driver = KubernetesDriver(settings(stub.url, token="wrong"))
        store = PolicyStore()
        store.put(Policy(target="m"))
        scaler = Autoscaler(store, FakeSource(), driver, period_seconds=1)
        assert await scaler.evaluate_once() == []
        assert "401" in scaler.last_error
