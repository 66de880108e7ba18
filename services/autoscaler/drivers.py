"""Scaling drivers: who carries a decision out.

- :class:`LocalDriver` (the embedded default) drives the inference service's Triton worker pool:
  ``SetWorkerCount`` sizes the pool and ``LoadModel(replicas=N)`` places a model on N workers. The
  pool is shared, so it is sized to the largest replica count any target was given; a model target's
  replicas are the workers holding it. Zero replicas of a model while other targets keep workers is
  ``UnloadModel(standby=True)``: the model's next request waits and counts as demand (cold start).
- :class:`KubernetesDriver` reads and patches the ``scale`` subresource of the inference Deployment
  (``GET``/``PATCH /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale``) with the official
  ``kubernetes`` client, for the pool target ``*`` (``kubernetes_pool_deployment``). Every inference
  pod serves every model, so a model target is refused rather than aimed at a Deployment the
  manifests do not create.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from meshserve.v1 import common_pb2 as cpb
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.autoscaler.settings import AutoscalerSettings
from services.common.clients import unary_call
from services.common.errors import BackendUnavailable, FailedPrecondition, InvalidInput, NotFound
from services.common.kube import api_client


class Driver(Protocol):
    """Reads and sets the replicas of a target."""

    name: str

    async def current(self, target: str) -> int:
        """Replicas the target has now."""
        ...

    async def apply(self, target: str, replicas: int, reason: str) -> None:
        """Sets the replicas of a target."""
        ...


class LocalDriver:
    """Adds and removes Triton workers through the inference service."""

    name = "local"

    def __init__(
        self, stub: ipb_grpc.InferenceServiceStub, timeout: float = 30.0, ready_timeout: float = 120.0
    ) -> None:
        self.stub = stub
        self.timeout = timeout
        self.ready_timeout = ready_timeout
        self.applied: dict[str, int] = {}

    async def _workers(self) -> list[ipb.Worker]:
        reply = await unary_call(
            self.stub.ListWorkers, ipb.ListWorkersRequest(), timeout=self.timeout, idempotent=True
        )
        return [w for w in reply.workers if w.state != "stopping"]

    async def current(self, target: str) -> int:
        """Workers in the pool (``*``), or workers holding the model."""
        workers = await self._workers()
        if target == "*":
            return len(workers)
        live = {w.id for w in workers}
        states = await unary_call(
            self.stub.ListModelStates, ipb.ListModelStatesRequest(), timeout=self.timeout, idempotent=True
        )
        holders = {w for s in states.states if target in (s.model.name, s.triton_name) for w in s.worker_ids}
        return len(holders & live)

    async def apply(self, target: str, replicas: int, reason: str) -> None:
        """Sizes the pool, then places a model target on ``replicas`` workers."""
        self.applied[target] = replicas
        others = [n for t, n in self.applied.items() if t != target]
        pool = replicas if target == "*" else max([replicas, *others])
        await unary_call(
            self.stub.SetWorkerCount,
            ipb.SetWorkerCountRequest(count=pool, reason=reason),
            timeout=self.timeout,
        )
        if target != "*" and replicas == 0 and pool > 0:
            # Other targets keep workers: scale this model to zero on them (standby, so its next
            # request is a cold start that the loop sees, not MODEL_NOT_LOADED).
            await unary_call(
                self.stub.UnloadModel,
                ipb.UnloadModelRequest(model=cpb.ModelRef(name=target), standby=True),
                timeout=self.timeout,
            )
        if target != "*" and replicas > 0:
            # New workers take seconds to start; placing the model before they are ready would
            # leave it on the old ones.
            await self._wait_ready(min(pool, replicas))
            await unary_call(
                self.stub.LoadModel,
                ipb.LoadModelRequest(model=cpb.ModelRef(name=target), device="auto", replicas=replicas),
                timeout=max(self.timeout, 120.0),
            )

    async def _wait_ready(self, count: int) -> None:
        deadline = asyncio.get_running_loop().time() + self.ready_timeout
        while asyncio.get_running_loop().time() < deadline:
            if sum(1 for w in await self._workers() if w.state == "ready") >= count:
                return
            await asyncio.sleep(0.25)
        raise BackendUnavailable(
            f"fewer than {count} Triton workers became ready within {self.ready_timeout:.0f}s",
            details={"workers": count},
        )


class KubernetesDriver:
    """Patches Deployment scale subresources through the Kubernetes API."""

    name = "kubernetes"

    def __init__(self, settings: AutoscalerSettings, api: Any = None) -> None:
        self.settings = settings
        self.api = api or _apps_api(settings)

    def deployment(self, target: str) -> str:
        """The Deployment that runs a target's workers: the inference pods serve every model, so
        only the pool target ``*`` maps to one; a model target is refused, naming why."""
        if target == "*":
            return self.settings.kubernetes_pool_deployment
        raise FailedPrecondition(
            f"the Kubernetes driver scales the inference pool, not model {target!r}",
            details={"target": target, "deployment": self.settings.kubernetes_pool_deployment},
            suggestion="put the policy on the pool target '*' (every inference pod serves every model), "
            "or use the local driver, which scales one model's Triton workers",
        )

    async def current(self, target: str) -> int:
        """``spec.replicas`` of the Deployment's scale."""
        scale = await self._call("read_namespaced_deployment_scale", target)
        return int(scale.spec.replicas or 0)

    async def apply(self, target: str, replicas: int, reason: str) -> None:
        """A merge patch of ``spec.replicas`` on the Deployment's scale."""
        await self._call(
            "patch_namespaced_deployment_scale",
            target,
            body={"spec": {"replicas": replicas}},
            _content_type="application/merge-patch+json",
        )

    async def _call(self, method: str, target: str, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        name, namespace = self.deployment(target), self.settings.kubernetes_namespace
        try:
            return await asyncio.to_thread(
                getattr(self.api, method),
                name,
                namespace,
                _request_timeout=self.settings.kubernetes_timeout_seconds,
                **kwargs,
            )
        except ApiException as error:
            details = {"deployment": name, "namespace": namespace, "status": error.status}
            if error.status == 404:
                raise NotFound(f"no Deployment {namespace}/{name}", details=details) from None
            if error.status in (400, 422):
                raise InvalidInput(f"Kubernetes refused the scale: {error.reason}", details=details) from None
            raise BackendUnavailable(
                f"Kubernetes API error {error.status}: {error.reason}", details=details
            ) from None
        except OSError as error:  # connection refused, DNS: the API server is unreachable
            raise BackendUnavailable(
                f"Kubernetes API unreachable: {error}", details={"deployment": name}
            ) from None


def _apps_api(settings: AutoscalerSettings) -> Any:
    """An AppsV1Api over the configured connection (services.common.kube)."""
    from kubernetes import client

    api = api_client(settings.kubernetes_api_url, settings.kubernetes_token, settings.kubernetes_verify_tls)
    return client.AppsV1Api(api)


def build_driver(settings: AutoscalerSettings, stub: ipb_grpc.InferenceServiceStub) -> Driver:
    """The driver the settings name."""
    if settings.driver == "local":
        return LocalDriver(stub)
    if settings.driver == "kubernetes":
        return KubernetesDriver(settings)
    raise InvalidInput(
        f"unknown autoscaler driver {settings.driver!r}", details={"allowed": "local,kubernetes"}
    )
