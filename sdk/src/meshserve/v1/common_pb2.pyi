from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DataType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_TYPE_UNSPECIFIED: _ClassVar[DataType]
    DATA_TYPE_BOOL: _ClassVar[DataType]
    DATA_TYPE_UINT8: _ClassVar[DataType]
    DATA_TYPE_INT8: _ClassVar[DataType]
    DATA_TYPE_INT16: _ClassVar[DataType]
    DATA_TYPE_INT32: _ClassVar[DataType]
    DATA_TYPE_INT64: _ClassVar[DataType]
    DATA_TYPE_FP16: _ClassVar[DataType]
    DATA_TYPE_FP32: _ClassVar[DataType]
    DATA_TYPE_FP64: _ClassVar[DataType]
    DATA_TYPE_BYTES: _ClassVar[DataType]

class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASON_UNSPECIFIED: _ClassVar[Reason]
    REASON_INVALID_INPUT: _ClassVar[Reason]
    REASON_MODEL_NOT_FOUND: _ClassVar[Reason]
    REASON_MODEL_LOAD_FAILED: _ClassVar[Reason]
    REASON_INFERENCE_FAILED: _ClassVar[Reason]
    REASON_PLUGIN_NOT_FOUND: _ClassVar[Reason]
    REASON_PLUGIN_LOAD_FAILED: _ClassVar[Reason]
    REASON_RATE_LIMIT_EXCEEDED: _ClassVar[Reason]
    REASON_INSUFFICIENT_MEMORY: _ClassVar[Reason]
    REASON_BACKEND_UNAVAILABLE: _ClassVar[Reason]
    REASON_AUTHENTICATION_FAILED: _ClassVar[Reason]
    REASON_PERMISSION_DENIED: _ClassVar[Reason]
    REASON_MODEL_NOT_LOADED: _ClassVar[Reason]
    REASON_MODEL_DOWNLOAD_FAILED: _ClassVar[Reason]
    REASON_MODEL_VALIDATION_FAILED: _ClassVar[Reason]
    REASON_ALREADY_EXISTS: _ClassVar[Reason]
    REASON_PAYLOAD_TOO_LARGE: _ClassVar[Reason]
    REASON_NOT_IMPLEMENTED: _ClassVar[Reason]
    REASON_DEADLINE_EXCEEDED: _ClassVar[Reason]
    REASON_INTERNAL: _ClassVar[Reason]
    REASON_NOT_FOUND: _ClassVar[Reason]
    REASON_CANCELLED: _ClassVar[Reason]
    REASON_FAILED_PRECONDITION: _ClassVar[Reason]
    REASON_QUOTA_EXCEEDED: _ClassVar[Reason]
    REASON_BUDGET_EXCEEDED: _ClassVar[Reason]

class ModelStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_STATUS_UNSPECIFIED: _ClassVar[ModelStatus]
    MODEL_STATUS_UPLOADING: _ClassVar[ModelStatus]
    MODEL_STATUS_VALIDATING: _ClassVar[ModelStatus]
    MODEL_STATUS_READY: _ClassVar[ModelStatus]
    MODEL_STATUS_LOADING: _ClassVar[ModelStatus]
    MODEL_STATUS_LOADED: _ClassVar[ModelStatus]
    MODEL_STATUS_FAILED: _ClassVar[ModelStatus]
    MODEL_STATUS_UNLOADED: _ClassVar[ModelStatus]

class ModelFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_FORMAT_UNSPECIFIED: _ClassVar[ModelFormat]
    MODEL_FORMAT_ONNX: _ClassVar[ModelFormat]
    MODEL_FORMAT_TORCHSCRIPT: _ClassVar[ModelFormat]
    MODEL_FORMAT_PYTORCH: _ClassVar[ModelFormat]
    MODEL_FORMAT_GGUF: _ClassVar[ModelFormat]
    MODEL_FORMAT_TRANSFORMERS: _ClassVar[ModelFormat]
    MODEL_FORMAT_BUILTIN: _ClassVar[ModelFormat]

class ModelTask(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_TASK_UNSPECIFIED: _ClassVar[ModelTask]
    MODEL_TASK_TENSOR: _ClassVar[ModelTask]
    MODEL_TASK_TEXT_GENERATION: _ClassVar[ModelTask]
    MODEL_TASK_TEXT_TO_SPEECH: _ClassVar[ModelTask]
    MODEL_TASK_SPEECH_TO_TEXT: _ClassVar[ModelTask]
DATA_TYPE_UNSPECIFIED: DataType
DATA_TYPE_BOOL: DataType
DATA_TYPE_UINT8: DataType
DATA_TYPE_INT8: DataType
DATA_TYPE_INT16: DataType
DATA_TYPE_INT32: DataType
DATA_TYPE_INT64: DataType
DATA_TYPE_FP16: DataType
DATA_TYPE_FP32: DataType
DATA_TYPE_FP64: DataType
DATA_TYPE_BYTES: DataType
REASON_UNSPECIFIED: Reason
REASON_INVALID_INPUT: Reason
REASON_MODEL_NOT_FOUND: Reason
REASON_MODEL_LOAD_FAILED: Reason
REASON_INFERENCE_FAILED: Reason
REASON_PLUGIN_NOT_FOUND: Reason
REASON_PLUGIN_LOAD_FAILED: Reason
REASON_RATE_LIMIT_EXCEEDED: Reason
REASON_INSUFFICIENT_MEMORY: Reason
REASON_BACKEND_UNAVAILABLE: Reason
REASON_AUTHENTICATION_FAILED: Reason
REASON_PERMISSION_DENIED: Reason
REASON_MODEL_NOT_LOADED: Reason
REASON_MODEL_DOWNLOAD_FAILED: Reason
REASON_MODEL_VALIDATION_FAILED: Reason
REASON_ALREADY_EXISTS: Reason
REASON_PAYLOAD_TOO_LARGE: Reason
REASON_NOT_IMPLEMENTED: Reason
REASON_DEADLINE_EXCEEDED: Reason
REASON_INTERNAL: Reason
REASON_NOT_FOUND: Reason
REASON_CANCELLED: Reason
REASON_FAILED_PRECONDITION: Reason
REASON_QUOTA_EXCEEDED: Reason
REASON_BUDGET_EXCEEDED: Reason
MODEL_STATUS_UNSPECIFIED: ModelStatus
MODEL_STATUS_UPLOADING: ModelStatus
MODEL_STATUS_VALIDATING: ModelStatus
MODEL_STATUS_READY: ModelStatus
MODEL_STATUS_LOADING: ModelStatus
MODEL_STATUS_LOADED: ModelStatus
MODEL_STATUS_FAILED: ModelStatus
MODEL_STATUS_UNLOADED: ModelStatus
MODEL_FORMAT_UNSPECIFIED: ModelFormat
MODEL_FORMAT_ONNX: ModelFormat
MODEL_FORMAT_TORCHSCRIPT: ModelFormat
MODEL_FORMAT_PYTORCH: ModelFormat
MODEL_FORMAT_GGUF: ModelFormat
MODEL_FORMAT_TRANSFORMERS: ModelFormat
MODEL_FORMAT_BUILTIN: ModelFormat
MODEL_TASK_UNSPECIFIED: ModelTask
MODEL_TASK_TENSOR: ModelTask
MODEL_TASK_TEXT_GENERATION: ModelTask
MODEL_TASK_TEXT_TO_SPEECH: ModelTask
MODEL_TASK_SPEECH_TO_TEXT: ModelTask

class Tensor(_message.Message):
    __slots__ = ("name", "datatype", "shape", "raw_contents", "bytes_contents")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATATYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    RAW_CONTENTS_FIELD_NUMBER: _ClassVar[int]
    BYTES_CONTENTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    datatype: DataType
    shape: _containers.RepeatedScalarFieldContainer[int]
    raw_contents: bytes
    bytes_contents: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, name: _Optional[str] = ..., datatype: _Optional[_Union[DataType, str]] = ..., shape: _Optional[_Iterable[int]] = ..., raw_contents: _Optional[bytes] = ..., bytes_contents: _Optional[_Iterable[bytes]] = ...) -> None: ...

class TensorSpec(_message.Message):
    __slots__ = ("name", "datatype", "shape")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATATYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    datatype: DataType
    shape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., datatype: _Optional[_Union[DataType, str]] = ..., shape: _Optional[_Iterable[int]] = ...) -> None: ...

class ModelRef(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class ErrorDetail(_message.Message):
    __slots__ = ("reason", "metadata", "suggestion", "retry_after_seconds", "facts")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REASON_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    reason: Reason
    metadata: _containers.ScalarMap[str, str]
    suggestion: str
    retry_after_seconds: int
    facts: _struct_pb2.Struct
    def __init__(self, reason: _Optional[_Union[Reason, str]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., suggestion: _Optional[str] = ..., retry_after_seconds: _Optional[int] = ..., facts: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class CallError(_message.Message):
    __slots__ = ("code", "message", "detail")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    detail: ErrorDetail
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., detail: _Optional[_Union[ErrorDetail, _Mapping]] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("id", "name", "version", "format", "task", "status", "status_reason", "inputs", "outputs", "sha256", "size_bytes", "source", "created_at", "capabilities", "labels", "optimized")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZED_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    version: str
    format: ModelFormat
    task: ModelTask
    status: ModelStatus
    status_reason: str
    inputs: _containers.RepeatedCompositeFieldContainer[TensorSpec]
    outputs: _containers.RepeatedCompositeFieldContainer[TensorSpec]
    sha256: str
    size_bytes: int
    source: str
    created_at: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.ScalarMap[str, str]
    optimized: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., format: _Optional[_Union[ModelFormat, str]] = ..., task: _Optional[_Union[ModelTask, str]] = ..., status: _Optional[_Union[ModelStatus, str]] = ..., status_reason: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[TensorSpec, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[TensorSpec, _Mapping]]] = ..., sha256: _Optional[str] = ..., size_bytes: _Optional[int] = ..., source: _Optional[str] = ..., created_at: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., optimized: _Optional[bool] = ...) -> None: ...
