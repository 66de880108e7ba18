"""The Kubernetes driver against a stand-in API server (Deployment scale subresource)."""

from __future__ import annotations

import json

import pytest

from services.autoscaler.controller import Autoscaler
from services.autoscaler.drivers import KubernetesDriver
from services.autoscaler.policies import Policy, PolicyStore
from services.autoscaler.settings import AutoscalerSettings
from services.common.errors import FailedPrecondition, NotFound
from tests.ops.kube_stub import KubeStub
from tests.ops.test_autoscaler_loop import FakeSource

pytestmark = pytest.mark.contract


def settings(url: str, token: str = "t0ken") -> AutoscalerSettings:
    return AutoscalerSettings(
        driver="kubernetes", kubernetes_api_url=url, kubernetes_token=token, kubernetes_namespace="serving"
    )


async def test_reads_and_patches_the_scale_subresource() -> None:
    with KubeStub("t0ken", {("serving", "inference"): 2}) as stub:
        driver = KubernetesDriver(settings(stub.url))
        assert await driver.current("*") == 2
        await driver.apply("*", 4, "load")
        assert stub.deployments[("serving", "inference")] == 4
        patch = stub.requests[-1]
        assert patch["method"] == "PATCH"
        assert patch["path"] == "/apis/apps/v1/namespaces/serving/deployments/inference/scale"
        assert patch["content_type"].startswith("application/merge-patch+json")
        assert json.loads(patch["body"]) == {"spec": {"replicas": 4}}
        assert await driver.current("*") == 4
    with KubeStub("t0ken", {}) as stub:
        with pytest.raises(NotFound):
            await KubernetesDriver(settings(stub.url)).current("*")


async def test_a_model_target_is_refused_naming_the_pool() -> None:
    with KubeStub("t0ken", {("serving", "inference"): 1}) as stub:
        driver = KubernetesDriver(settings(stub.url))
        with pytest.raises(FailedPrecondition) as refused:
            await driver.current("resnet")
        assert refused.value.details == {"target": "resnet", "deployment": "inference"}
        assert "'*'" in refused.value.suggestion
        assert stub.requests == []  # nothing was asked of the API server


async def test_control_loop_drives_the_inference_deployment() -> None:
    with KubeStub("t0ken", {("serving", "inference"): 1}) as stub:
        store = PolicyStore()
        store.put(Policy(target="*", target_metric="queue_depth", target_value=2, max_replicas=5))
        source = FakeSource()
        source.queue_depth = 6
        scaler = Autoscaler(store, source, KubernetesDriver(settings(stub.url)), period_seconds=1)
        [decision] = await scaler.evaluate_once()
        assert decision.driver == "kubernetes" and decision.applied
        assert stub.deployments[("serving", "inference")] == 2


async def test_refused_credentials_are_recorded_as_an_unapplied_decision() -> None:
    with KubeStub("right", {("serving", "inference"): 1}) as stub:
        driver = KubernetesDriver(settings(stub.url, token="wrong"))
        store = PolicyStore()
        store.put(Policy(target="*"))
        scaler = Autoscaler(store, FakeSource(), driver, period_seconds=1)
        assert await scaler.evaluate_once() == []
        assert "401" in scaler.last_error
