"""Scaling drivers: who carries a decision out.

- :class:`LocalDriver` (the embedded default) drives the inference replicas' Triton worker pools:
  ``SetWorkerCount`` sizes a pool and ``LoadModel(replicas=N)`` places a model on N workers, each
  replica its share of the mesh-wide count. The pool is shared, so it is sized to the largest
  replica count any target was given; a model target's replicas are the workers holding it. Zero replicas of a model while other targets keep workers is
  ``UnloadModel(standby=True)``: the model's next request waits and counts as demand (cold start).
- :class:`KubernetesDriver` reads and patches the ``scale`` subresource of the inference Deployment
  (``GET``/``PATCH /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale``) with the official
  ``kubernetes`` client, for the pool target ``*`` (``kubernetes_pool_deployment``). Every inference
  pod serves every model, so a model target is refused rather than aimed at a Deployment the
  manifests do not create.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from meshserve.v1 import common_pb2 as cpb
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.autoscaler.settings import AutoscalerSettings
from services.common.clients import unary_call
from services.common.errors import BackendUnavailable, FailedPrecondition, InvalidInput, MeshError, NotFound
from services.common.inference_endpoints import InferenceEndpoints
from services.common.kube import api_client

log = logging.getLogger("meshserve.autoscaler.driver")


class Driver(Protocol):
    """Reads and sets the replicas of a target."""

    name: str

    async def current(self, target: str) -> int:
        """Replicas the target has now."""
        ...

    async def apply(self, target: str, replicas: int, reason: str) -> None:
        """Sets the replicas of a target."""
        ...


def spread(total: int, replicas: int) -> list[int]:
    """A mesh-wide count over the inference replicas: as even as it goes, the first ones taking the
    remainder, and never fewer than one each while the count is above zero (requests are balanced
    over every replica, so each must have a worker, and hold the model, to answer them)."""
    if total <= 0:
        return [0] * replicas
    return [max(1, total // replicas + (i < total % replicas)) for i in range(replicas)]


class LocalDriver:
    """Adds and removes Triton workers through every inference replica.

    Each replica runs its own workers. A target's replicas are counted over the whole mesh, and a
    decision is spread over the replicas that discovery lists (:func:`spread`); each replica is told
    its own share (``this_replica_only``), so nothing is passed on twice. A replica that does not
    answer is left out of the count and of the change, and logged.
    """

    name = "local"

    def __init__(
        self, endpoints: InferenceEndpoints, timeout: float = 30.0, ready_timeout: float = 120.0
    ) -> None:
        self.endpoints = endpoints
        self.timeout = timeout
        self.ready_timeout = ready_timeout
        self.applied: dict[str, int] = {}

    async def _workers(self, stub: ipb_grpc.InferenceServiceStub) -> list[ipb.Worker]:
        reply = await unary_call(
            stub.ListWorkers, ipb.ListWorkersRequest(), timeout=self.timeout, idempotent=True
        )
        return [w for w in reply.workers if w.state != "stopping"]

    async def _count(self, stub: ipb_grpc.InferenceServiceStub, target: str) -> int:
        """One replica's workers (``*``), or its workers holding the model."""
        workers = await self._workers(stub)
        if target == "*":
            return len(workers)
        live = {w.id for w in workers}
        states = await unary_call(
            stub.ListModelStates, ipb.ListModelStatesRequest(), timeout=self.timeout, idempotent=True
        )
        holders = {w for s in states.states if target in (s.model.name, s.triton_name) for w in s.worker_ids}
        return len(holders & live)

    async def _answering(self) -> list[tuple[str, ipb_grpc.InferenceServiceStub]]:
        """The replicas that answer ListWorkers now (BackendUnavailable when none does)."""
        stubs = await self.endpoints.stubs()
        answers = await asyncio.gather(*(self._workers(s) for _, s in stubs), return_exceptions=True)
        live = []
        for (address, stub), answer in zip(stubs, answers, strict=True):
            if isinstance(answer, MeshError):
                log.warning("inference replica left out of scaling", extra={"endpoint": address})
            elif isinstance(answer, BaseException):
                raise answer
            else:
                live.append((address, stub))
        if not live:
            raise BackendUnavailable("no inference replica answered", details={"endpoints": len(stubs)})
        return live

    async def current(self, target: str) -> int:
        """Workers in the pool (``*``), or workers holding the model, over every replica."""
        live = await self._answering()
        return sum(await asyncio.gather(*(self._count(s, target) for _, s in live)))

    async def apply(self, target: str, replicas: int, reason: str) -> None:
        """Sizes every replica's pool to its share, then places a model target on its share of them."""
        self.applied[target] = replicas
        others = [n for t, n in self.applied.items() if t != target]
        pool = replicas if target == "*" else max([replicas, *others])
        live = await self._answering()
        pools, models = spread(pool, len(live)), spread(replicas, len(live))
        await asyncio.gather(
            *(
                self._apply_one(stub, target, pool_share, model_share, reason)
                for (_, stub), pool_share, model_share in zip(live, pools, models, strict=True)
            )
        )

    async def _apply_one(
        self, stub: ipb_grpc.InferenceServiceStub, target: str, pool: int, replicas: int, reason: str
    ) -> None:
        await unary_call(
            stub.SetWorkerCount, ipb.SetWorkerCountRequest(count=pool, reason=reason), timeout=self.timeout
        )
        model = cpb.ModelRef(name=target)
        if target != "*" and replicas == 0 and pool > 0:
            # Other targets keep workers: scale this model to zero on them (standby, so its next
            # request is a cold start that the loop sees, not MODEL_NOT_LOADED).
            await unary_call(
                stub.UnloadModel,
                ipb.UnloadModelRequest(model=model, standby=True, this_replica_only=True),
                timeout=self.timeout,
            )
        if target != "*" and replicas > 0:
            # New workers take seconds to start; placing the model before they are ready would
            # leave it on the old ones.
            await self._wait_ready(stub, min(pool, replicas))
            await unary_call(
                stub.LoadModel,
                ipb.LoadModelRequest(model=model, device="auto", replicas=replicas, this_replica_only=True),
                timeout=max(self.timeout, 120.0),
            )

    async def _wait_ready(self, stub: ipb_grpc.InferenceServiceStub, count: int) -> None:
        deadline = asyncio.get_running_loop().time() + self.ready_timeout
        while asyncio.get_running_loop().time() < deadline:
            if sum(1 for w in await self._workers(stub) if w.state == "ready") >= count:
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


def build_driver(settings: AutoscalerSettings, endpoints: InferenceEndpoints) -> Driver:
    """The driver the settings name."""
    if settings.driver == "local":
        return LocalDriver(endpoints)
    if settings.driver == "kubernetes":
        return KubernetesDriver(settings)
    raise InvalidInput(
        f"unknown autoscaler driver {settings.driver!r}", details={"allowed": "local,kubernetes"}
    )
