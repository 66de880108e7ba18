"""gRPC face of the registry: translates messages to and from :class:`~services.registry.catalog.Registry`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import registry_pb2 as pb
from meshserve.v1 import registry_pb2_grpc as pb_grpc
from services.common.bundled import BUNDLED
from services.common.errors import InvalidInput, MeshError
from services.common.streams import drain
from services.registry import derive
from services.registry.catalog import Registry, UploadRequest, check_name
from services.registry.converters import model_to_proto
from services.registry.imports import hub_import, import_kind, url_import

CHUNK = 1 << 20
FORMAT_NAMES = {
    common.MODEL_FORMAT_UNSPECIFIED: "",
    common.MODEL_FORMAT_ONNX: "onnx",
    common.MODEL_FORMAT_TORCHSCRIPT: "torchscript",
    common.MODEL_FORMAT_PYTORCH: "pytorch",
    common.MODEL_FORMAT_GGUF: "gguf",
    common.MODEL_FORMAT_TRANSFORMERS: "transformers",
}
STATUS_NAMES = {
    common.MODEL_STATUS_READY: "ready",
    common.MODEL_STATUS_LOADING: "loading",
    common.MODEL_STATUS_LOADED: "loaded",
    common.MODEL_STATUS_FAILED: "failed",
}


def _format(value: common.ModelFormat) -> str:
    if value not in FORMAT_NAMES:
        raise InvalidInput(
            f"format {common.ModelFormat.Name(value)} cannot be uploaded", details={"field": "format"}
        )
    return FORMAT_NAMES[value]


class RegistryServicer(pb_grpc.RegistryServiceServicer):
    """Model metadata, artifacts and sources."""

    def __init__(self, registry: Registry, import_timeout: float = 30.0) -> None:
        self.registry = registry
        self.import_timeout = import_timeout

    async def UploadModel(
        self, request_iterator: AsyncIterator[pb.UploadModelRequest], context: grpc.aio.ServicerContext
    ) -> pb.UploadModelResponse:
        """Header first, then chunks of at most 1 MiB; validated before anything is kept."""
        first = await anext(aiter(request_iterator), None)
        if first is None or first.WhichOneof("part") != "header":
            raise InvalidInput("the first upload message must carry the header", details={"field": "header"})
        header = first.header

        async def chunks() -> AsyncIterator[bytes]:
            async for message in request_iterator:
                if message.WhichOneof("part") != "chunk":
                    raise InvalidInput("only the first upload message may carry a header")
                if len(message.chunk) > CHUNK:
                    raise InvalidInput(
                        f"upload chunks must be at most {CHUNK} bytes", details={"max_chunk": CHUNK}
                    )
                yield message.chunk

        try:
            record = await self.registry.receive(
                UploadRequest(
                    name=header.name,
                    format=_format(header.format),
                    filename=header.filename,
                    version=header.version,
                    labels=dict(header.labels),
                ),
                chunks(),
            )
        except MeshError:
            await drain(request_iterator, self.registry.blobs.max_bytes, lambda message: len(message.chunk))
            raise
        return pb.UploadModelResponse(model=model_to_proto(record))

    async def ImportModel(
        self, request: pb.ImportModelRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ImportModelResponse]:
        """Downloads from a URL or the hub, streaming progress; the last message carries the model."""
        source = request.source.strip()
        progress: asyncio.Queue[tuple[int, int]] = asyncio.Queue()

        def report(done: int, total: int) -> None:
            progress.put_nowait((done, total))

        if import_kind(source) == "huggingface":
            check_name(request.name or source.removeprefix("huggingface:").split("/")[-1])
            yield pb.ImportModelResponse(phase="resolving")
            plan = await hub_import(source, request.name, request.revision, self.import_timeout, report)
        else:
            plan = url_import(source, request.name, self.import_timeout, report)
        check_name(plan.name)
        header = UploadRequest(
            name=plan.name, format=_format(request.format), filename=plan.filename, source=plan.origin
        )
        chunks = plan.chunks
        task = asyncio.create_task(self.registry.receive(header, chunks))
        try:
            while not task.done():
                getter = asyncio.ensure_future(progress.get())
                await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    done, total = getter.result()
                    yield pb.ImportModelResponse(bytes_done=done, bytes_total=total, phase="downloading")
                else:
                    getter.cancel()
            record = task.result()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        yield pb.ImportModelResponse(
            bytes_done=record.size_bytes,
            bytes_total=record.size_bytes,
            phase="stored",
            model=model_to_proto(record),
        )

    async def GetModel(
        self, request: pb.GetModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetModelResponse:
        """One model version."""
        return pb.GetModelResponse(
            model=model_to_proto(self.registry.get(request.ref.name, request.ref.version))
        )

    async def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListModelsResponse:
        """The newest version of every model, filtered."""
        models = [model_to_proto(r) for r in self.registry.list()]
        if request.task:
            models = [m for m in models if m.task == request.task]
        if request.status:
            models = [m for m in models if m.status == request.status]
        if request.capability:
            models = [m for m in models if request.capability in m.capabilities]
        return pb.ListModelsResponse(models=models)

    async def DeleteModel(
        self, request: pb.DeleteModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteModelResponse:
        """Deletes a version, or every version of a name, and the blobs left unreferenced."""
        versions, blob_removed = self.registry.delete(
            request.ref.name,
            request.ref.version,
            all_versions=request.all_versions,
            validate_only=request.validate_only,
        )
        return pb.DeleteModelResponse(blob_removed=blob_removed, deleted_versions=versions)

    async def UpdateModelStatus(
        self, request: pb.UpdateModelStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateModelStatusResponse:
        """Records a lifecycle change."""
        if request.status not in STATUS_NAMES:
            raise InvalidInput("status must be READY, LOADING, LOADED or FAILED", details={"field": "status"})
        record = self.registry.set_status(
            request.ref.name, request.ref.version, STATUS_NAMES[request.status], request.reason
        )
        return pb.UpdateModelStatusResponse(model=model_to_proto(record))

    async def DownloadArtifact(
        self, request: pb.DownloadArtifactRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.DownloadArtifactResponse]:
        """The artifact in chunks of 1 MiB."""
        path = self.registry.artifact(request.ref.name, request.ref.version)
        with path.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield pb.DownloadArtifactResponse(chunk=chunk)

    async def ConvertModel(
        self, request: pb.ConvertModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.ConvertModelResponse:
        """TorchScript → ONNX, stored as a new model ``<name>-onnx``."""
        if request.target_format != common.MODEL_FORMAT_ONNX:
            raise InvalidInput("only conversion to ONNX is supported", details={"field": "target_format"})
        shapes = {example.name: list(example.shape) for example in request.example_inputs}
        converted = await derive.convert_to_onnx(
            self.registry, request.ref.name, request.ref.version, shapes, request.opset
        )
        return pb.ConvertModelResponse(model=model_to_proto(converted))

    async def OptimizeModel(
        self, request: pb.OptimizeModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.OptimizeModelResponse:
        """A new optimised version (ONNX graph optimisation, GGUF re-quantization)."""
        optimized, applied = await derive.optimize(
            self.registry,
            request.ref.name,
            request.ref.version,
            request.target,
            request.level,
            dict(request.options),
        )
        return pb.OptimizeModelResponse(model=model_to_proto(optimized), applied=applied)

    async def ListAvailableModels(
        self, request: pb.ListAvailableModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAvailableModelsResponse:
        """Stored models plus the bundled ones, with whether each is on this machine."""
        catalogue = [
            pb.AvailableModel(
                name=r.name,
                source=r.source,
                task=model_to_proto(r).task,
                available_offline=True,
                size_bytes=r.size_bytes,
                description=str(r.spec.get("labels", {}).get("description", f"{r.format} model")),
            )
            for r in self.registry.list()
        ]
        known = {m.name for m in catalogue}
        for asset in BUNDLED:
            if asset.model_id in known:
                continue
            size = asset.size_bytes
            catalogue.append(
                pb.AvailableModel(
                    name=asset.model_id,
                    source="bundled",
                    task=common.ModelTask.Value("MODEL_TASK_" + asset.task.upper().replace("-", "_")),
                    available_offline=size > 0,
                    size_bytes=size,
                    description=asset.description,
                )
            )
        if request.task:
            catalogue = [m for m in catalogue if m.task == request.task]
        return pb.ListAvailableModelsResponse(models=catalogue)

    async def GetCacheInfo(
        self, request: pb.GetCacheInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCacheInfoResponse:
        """Blob store facts, measured."""
        count, size = await asyncio.to_thread(self.registry.blobs.usage)
        return pb.GetCacheInfoResponse(
            path=str(self.registry.blobs.root.resolve()),
            blob_count=count,
            size_bytes=size,
            max_upload_bytes=self.registry.blobs.max_bytes,
        )
