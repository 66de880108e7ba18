import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from meshserve.v1 import common_pb2 as _common_pb2
from meshserve.v1 import inference_pb2 as _inference_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobPriority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_PRIORITY_UNSPECIFIED: _ClassVar[JobPriority]
    JOB_PRIORITY_LOW: _ClassVar[JobPriority]
    JOB_PRIORITY_NORMAL: _ClassVar[JobPriority]
    JOB_PRIORITY_HIGH: _ClassVar[JobPriority]

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_COMPLETED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]

class RetryStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETRY_STRATEGY_UNSPECIFIED: _ClassVar[RetryStrategy]
    RETRY_STRATEGY_NONE: _ClassVar[RetryStrategy]
    RETRY_STRATEGY_FIXED: _ClassVar[RetryStrategy]
    RETRY_STRATEGY_EXPONENTIAL_BACKOFF: _ClassVar[RetryStrategy]
JOB_PRIORITY_UNSPECIFIED: JobPriority
JOB_PRIORITY_LOW: JobPriority
JOB_PRIORITY_NORMAL: JobPriority
JOB_PRIORITY_HIGH: JobPriority
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_COMPLETED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState
RETRY_STRATEGY_UNSPECIFIED: RetryStrategy
RETRY_STRATEGY_NONE: RetryStrategy
RETRY_STRATEGY_FIXED: RetryStrategy
RETRY_STRATEGY_EXPONENTIAL_BACKOFF: RetryStrategy

class RetryPolicy(_message.Message):
    __slots__ = ("strategy", "max_attempts", "initial_backoff_seconds", "max_backoff_seconds", "multiplier")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    INITIAL_BACKOFF_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_BACKOFF_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    strategy: RetryStrategy
    max_attempts: int
    initial_backoff_seconds: float
    max_backoff_seconds: float
    multiplier: float
    def __init__(self, strategy: _Optional[_Union[RetryStrategy, str]] = ..., max_attempts: _Optional[int] = ..., initial_backoff_seconds: _Optional[float] = ..., max_backoff_seconds: _Optional[float] = ..., multiplier: _Optional[float] = ...) -> None: ...

class JobConfig(_message.Message):
    __slots__ = ("priority", "retry_policy", "callback_url", "callback_secret", "timeout_seconds", "concurrency")
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    RETRY_POLICY_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_URL_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_SECRET_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    priority: JobPriority
    retry_policy: RetryPolicy
    callback_url: str
    callback_secret: str
    timeout_seconds: float
    concurrency: int
    def __init__(self, priority: _Optional[_Union[JobPriority, str]] = ..., retry_policy: _Optional[_Union[RetryPolicy, _Mapping]] = ..., callback_url: _Optional[str] = ..., callback_secret: _Optional[str] = ..., timeout_seconds: _Optional[float] = ..., concurrency: _Optional[int] = ...) -> None: ...

class JobItem(_message.Message):
    __slots__ = ("model", "prompt", "sampling")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    prompt: str
    sampling: _inference_pb2.SamplingParams
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., prompt: _Optional[str] = ..., sampling: _Optional[_Union[_inference_pb2.SamplingParams, _Mapping]] = ...) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ("job_type", "items", "config", "request_id", "document_analysis")
    JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    job_type: str
    items: _containers.RepeatedCompositeFieldContainer[JobItem]
    config: JobConfig
    request_id: str
    document_analysis: DocumentAnalysis
    def __init__(self, job_type: _Optional[str] = ..., items: _Optional[_Iterable[_Union[JobItem, _Mapping]]] = ..., config: _Optional[_Union[JobConfig, _Mapping]] = ..., request_id: _Optional[str] = ..., document_analysis: _Optional[_Union[DocumentAnalysis, _Mapping]] = ...) -> None: ...

class DocumentAnalysis(_message.Message):
    __slots__ = ("documents", "analysis_type", "model", "labels")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_TYPE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedScalarFieldContainer[str]
    analysis_type: str
    model: _common_pb2.ModelRef
    labels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, documents: _Optional[_Iterable[str]] = ..., analysis_type: _Optional[str] = ..., model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., labels: _Optional[_Iterable[str]] = ...) -> None: ...

class SubmitJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class JobError(_message.Message):
    __slots__ = ("reason", "message", "details", "suggestion", "facts")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    reason: _common_pb2.Reason
    message: str
    details: _containers.ScalarMap[str, str]
    suggestion: str
    facts: _struct_pb2.Struct
    def __init__(self, reason: _Optional[_Union[_common_pb2.Reason, str]] = ..., message: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ..., suggestion: _Optional[str] = ..., facts: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class JobItemResult(_message.Message):
    __slots__ = ("index", "state", "model", "text", "prompt_tokens", "completion_tokens", "finish_reason", "seconds", "attempts", "error", "device")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    index: int
    state: JobState
    model: str
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    seconds: float
    attempts: int
    error: JobError
    device: str
    def __init__(self, index: _Optional[int] = ..., state: _Optional[_Union[JobState, str]] = ..., model: _Optional[str] = ..., text: _Optional[str] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., finish_reason: _Optional[str] = ..., seconds: _Optional[float] = ..., attempts: _Optional[int] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., device: _Optional[str] = ...) -> None: ...

class JobProgress(_message.Message):
    __slots__ = ("total", "done", "succeeded", "failed", "percent", "cancelled")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    total: int
    done: int
    succeeded: int
    failed: int
    percent: float
    cancelled: int
    def __init__(self, total: _Optional[int] = ..., done: _Optional[int] = ..., succeeded: _Optional[int] = ..., failed: _Optional[int] = ..., percent: _Optional[float] = ..., cancelled: _Optional[int] = ...) -> None: ...

class CallbackStatus(_message.Message):
    __slots__ = ("url", "delivered", "attempts", "last_status_code", "last_error")
    URL_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    url: str
    delivered: bool
    attempts: int
    last_status_code: int
    last_error: str
    def __init__(self, url: _Optional[str] = ..., delivered: _Optional[bool] = ..., attempts: _Optional[int] = ..., last_status_code: _Optional[int] = ..., last_error: _Optional[str] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("job_id", "job_type", "state", "priority", "progress", "results", "error", "created_at", "started_at", "finished_at", "config", "callback", "queue_position")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job_type: str
    state: JobState
    priority: JobPriority
    progress: JobProgress
    results: _containers.RepeatedCompositeFieldContainer[JobItemResult]
    error: JobError
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    config: JobConfig
    callback: CallbackStatus
    queue_position: int
    def __init__(self, job_id: _Optional[str] = ..., job_type: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., priority: _Optional[_Union[JobPriority, str]] = ..., progress: _Optional[_Union[JobProgress, _Mapping]] = ..., results: _Optional[_Iterable[_Union[JobItemResult, _Mapping]]] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., config: _Optional[_Union[JobConfig, _Mapping]] = ..., callback: _Optional[_Union[CallbackStatus, _Mapping]] = ..., queue_position: _Optional[int] = ...) -> None: ...

class RegisterWebhookRequest(_message.Message):
    __slots__ = ("url", "events", "secret", "retry_count", "timeout_seconds")
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    RETRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    url: str
    events: _containers.RepeatedScalarFieldContainer[str]
    secret: str
    retry_count: int
    timeout_seconds: float
    def __init__(self, url: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., secret: _Optional[str] = ..., retry_count: _Optional[int] = ..., timeout_seconds: _Optional[float] = ...) -> None: ...

class Webhook(_message.Message):
    __slots__ = ("webhook_id", "url", "events", "retry_count", "timeout_seconds", "created_at", "delivered", "failed")
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    RETRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    url: str
    events: _containers.RepeatedScalarFieldContainer[str]
    retry_count: int
    timeout_seconds: float
    created_at: _timestamp_pb2.Timestamp
    delivered: int
    failed: int
    def __init__(self, webhook_id: _Optional[str] = ..., url: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., retry_count: _Optional[int] = ..., timeout_seconds: _Optional[float] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delivered: _Optional[int] = ..., failed: _Optional[int] = ...) -> None: ...

class RegisterWebhookResponse(_message.Message):
    __slots__ = ("webhook", "generated_secret")
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    GENERATED_SECRET_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    generated_secret: str
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ..., generated_secret: _Optional[str] = ...) -> None: ...

class ListWebhooksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListWebhooksResponse(_message.Message):
    __slots__ = ("webhooks",)
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    webhooks: _containers.RepeatedCompositeFieldContainer[Webhook]
    def __init__(self, webhooks: _Optional[_Iterable[_Union[Webhook, _Mapping]]] = ...) -> None: ...

class DeleteWebhookRequest(_message.Message):
    __slots__ = ("webhook_id",)
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ...) -> None: ...

class DeleteWebhookResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
