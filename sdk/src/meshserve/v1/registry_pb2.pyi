from meshserve.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UploadHeader(_message.Message):
    __slots__ = ("name", "format", "filename", "version", "expected_size_bytes", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    format: _common_pb2.ModelFormat
    filename: str
    version: str
    expected_size_bytes: int
    labels: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ModelFormat, str]] = ..., filename: _Optional[str] = ..., version: _Optional[str] = ..., expected_size_bytes: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class UploadModelRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: UploadHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[UploadHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.Model
    def __init__(self, model: _Optional[_Union[_common_pb2.Model, _Mapping]] = ...) -> None: ...

class ImportModelRequest(_message.Message):
    __slots__ = ("source", "name", "revision", "format", "task")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    source: str
    name: str
    revision: str
    format: _common_pb2.ModelFormat
    task: _common_pb2.ModelTask
    def __init__(self, source: _Optional[str] = ..., name: _Optional[str] = ..., revision: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ModelFormat, str]] = ..., task: _Optional[_Union[_common_pb2.ModelTask, str]] = ...) -> None: ...

class ImportModelResponse(_message.Message):
    __slots__ = ("bytes_done", "bytes_total", "phase", "model")
    BYTES_DONE_FIELD_NUMBER: _ClassVar[int]
    BYTES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    bytes_done: int
    bytes_total: int
    phase: str
    model: _common_pb2.Model
    def __init__(self, bytes_done: _Optional[int] = ..., bytes_total: _Optional[int] = ..., phase: _Optional[str] = ..., model: _Optional[_Union[_common_pb2.Model, _Mapping]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("ref",)
    REF_FIELD_NUMBER: _ClassVar[int]
    ref: _common_pb2.ModelRef
    def __init__(self, ref: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ...) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.Model
    def __init__(self, model: _Optional[_Union[_common_pb2.Model, _Mapping]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("task", "capability", "status")
    TASK_FIELD_NUMBER: _ClassVar[int]
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    task: _common_pb2.ModelTask
    capability: str
    status: _common_pb2.ModelStatus
    def __init__(self, task: _Optional[_Union[_common_pb2.ModelTask, str]] = ..., capability: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.ModelStatus, str]] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_common_pb2.Model]
    def __init__(self, models: _Optional[_Iterable[_Union[_common_pb2.Model, _Mapping]]] = ...) -> None: ...

class DeleteModelRequest(_message.Message):
    __slots__ = ("ref", "all_versions", "validate_only")
    REF_FIELD_NUMBER: _ClassVar[int]
    ALL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    ref: _common_pb2.ModelRef
    all_versions: bool
    validate_only: bool
    def __init__(self, ref: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., all_versions: _Optional[bool] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class DeleteModelResponse(_message.Message):
    __slots__ = ("blob_removed", "deleted_versions")
    BLOB_REMOVED_FIELD_NUMBER: _ClassVar[int]
    DELETED_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    blob_removed: bool
    deleted_versions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, blob_removed: _Optional[bool] = ..., deleted_versions: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateModelStatusRequest(_message.Message):
    __slots__ = ("ref", "status", "reason")
    REF_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ref: _common_pb2.ModelRef
    status: _common_pb2.ModelStatus
    reason: str
    def __init__(self, ref: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.ModelStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class UpdateModelStatusResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.Model
    def __init__(self, model: _Optional[_Union[_common_pb2.Model, _Mapping]] = ...) -> None: ...

class DownloadArtifactRequest(_message.Message):
    __slots__ = ("ref",)
    REF_FIELD_NUMBER: _ClassVar[int]
    ref: _common_pb2.ModelRef
    def __init__(self, ref: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ...) -> None: ...

class DownloadArtifactResponse(_message.Message):
    __slots__ = ("chunk",)
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    def __init__(self, chunk: _Optional[bytes] = ...) -> None: ...

class ConvertModelRequest(_message.Message):
    __slots__ = ("ref", "target_format", "opset", "example_inputs")
    REF_FIELD_NUMBER: _ClassVar[int]
    TARGET_FORMAT_FIELD_NUMBER: _ClassVar[int]
    OPSET_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_INPUTS_FIELD_NUMBER: _ClassVar[int]
    ref: _common_pb2.ModelRef
    target_format: _common_pb2.ModelFormat
    opset: int
    example_inputs: _containers.RepeatedCompositeFieldContainer[_common_pb2.TensorSpec]
    def __init__(self, ref: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., target_format: _Optional[_Union[_common_pb2.ModelFormat, str]] = ..., opset: _Optional[int] = ..., example_inputs: _Optional[_Iterable[_Union[_common_pb2.TensorSpec, _Mapping]]] = ...) -> None: ...

class ConvertModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.Model
    def __init__(self, model: _Optional[_Union[_common_pb2.Model, _Mapping]] = ...) -> None: ...

class OptimizeModelRequest(_message.Message):
    __slots__ = ("ref", "target", "level", "options")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REF_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    ref: _common_pb2.ModelRef
    target: str
    level: str
    options: _containers.ScalarMap[str, str]
    def __init__(self, ref: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., target: _Optional[str] = ..., level: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ...) -> None: ...

class OptimizeModelResponse(_message.Message):
    __slots__ = ("model", "applied")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.Model
    applied: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[_Union[_common_pb2.Model, _Mapping]] = ..., applied: _Optional[_Iterable[str]] = ...) -> None: ...

class ListAvailableModelsRequest(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: _common_pb2.ModelTask
    def __init__(self, task: _Optional[_Union[_common_pb2.ModelTask, str]] = ...) -> None: ...

class AvailableModel(_message.Message):
    __slots__ = ("name", "source", "task", "available_offline", "size_bytes", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_OFFLINE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    source: str
    task: _common_pb2.ModelTask
    available_offline: bool
    size_bytes: int
    description: str
    def __init__(self, name: _Optional[str] = ..., source: _Optional[str] = ..., task: _Optional[_Union[_common_pb2.ModelTask, str]] = ..., available_offline: _Optional[bool] = ..., size_bytes: _Optional[int] = ..., description: _Optional[str] = ...) -> None: ...

class ListAvailableModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[AvailableModel]
    def __init__(self, models: _Optional[_Iterable[_Union[AvailableModel, _Mapping]]] = ...) -> None: ...

class GetCacheInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCacheInfoResponse(_message.Message):
    __slots__ = ("path", "blob_count", "size_bytes", "max_upload_bytes")
    PATH_FIELD_NUMBER: _ClassVar[int]
    BLOB_COUNT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_UPLOAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    path: str
    blob_count: int
    size_bytes: int
    max_upload_bytes: int
    def __init__(self, path: _Optional[str] = ..., blob_count: _Optional[int] = ..., size_bytes: _Optional[int] = ..., max_upload_bytes: _Optional[int] = ...) -> None: ...
