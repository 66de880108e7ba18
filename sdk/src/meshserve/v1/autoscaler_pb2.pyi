from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Policy(_message.Message):
    __slots__ = ("target", "target_metric", "target_value", "min_replicas", "max_replicas", "scale_up_step", "scale_down_step", "scale_up_cooldown_seconds", "scale_down_cooldown_seconds", "idle_seconds_to_zero")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    TARGET_METRIC_FIELD_NUMBER: _ClassVar[int]
    TARGET_VALUE_FIELD_NUMBER: _ClassVar[int]
    MIN_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    MAX_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    SCALE_UP_STEP_FIELD_NUMBER: _ClassVar[int]
    SCALE_DOWN_STEP_FIELD_NUMBER: _ClassVar[int]
    SCALE_UP_COOLDOWN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SCALE_DOWN_COOLDOWN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    IDLE_SECONDS_TO_ZERO_FIELD_NUMBER: _ClassVar[int]
    target: str
    target_metric: str
    target_value: float
    min_replicas: int
    max_replicas: int
    scale_up_step: int
    scale_down_step: int
    scale_up_cooldown_seconds: float
    scale_down_cooldown_seconds: float
    idle_seconds_to_zero: float
    def __init__(self, target: _Optional[str] = ..., target_metric: _Optional[str] = ..., target_value: _Optional[float] = ..., min_replicas: _Optional[int] = ..., max_replicas: _Optional[int] = ..., scale_up_step: _Optional[int] = ..., scale_down_step: _Optional[int] = ..., scale_up_cooldown_seconds: _Optional[float] = ..., scale_down_cooldown_seconds: _Optional[float] = ..., idle_seconds_to_zero: _Optional[float] = ...) -> None: ...

class PutPolicyRequest(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: Policy
    def __init__(self, policy: _Optional[_Union[Policy, _Mapping]] = ...) -> None: ...

class PutPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: Policy
    def __init__(self, policy: _Optional[_Union[Policy, _Mapping]] = ...) -> None: ...

class GetPolicyRequest(_message.Message):
    __slots__ = ("target",)
    TARGET_FIELD_NUMBER: _ClassVar[int]
    target: str
    def __init__(self, target: _Optional[str] = ...) -> None: ...

class GetPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: Policy
    def __init__(self, policy: _Optional[_Union[Policy, _Mapping]] = ...) -> None: ...

class ListPoliciesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPoliciesResponse(_message.Message):
    __slots__ = ("policies",)
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[Policy]
    def __init__(self, policies: _Optional[_Iterable[_Union[Policy, _Mapping]]] = ...) -> None: ...

class DeletePolicyRequest(_message.Message):
    __slots__ = ("target",)
    TARGET_FIELD_NUMBER: _ClassVar[int]
    target: str
    def __init__(self, target: _Optional[str] = ...) -> None: ...

class DeletePolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ScaleRequest(_message.Message):
    __slots__ = ("target", "replicas", "reason")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    target: str
    replicas: int
    reason: str
    def __init__(self, target: _Optional[str] = ..., replicas: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("time", "target", "from_replicas", "to_replicas", "reason", "inputs", "trigger", "driver", "applied", "counted")
    class InputsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    TIME_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    FROM_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    TO_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    COUNTED_FIELD_NUMBER: _ClassVar[int]
    time: str
    target: str
    from_replicas: int
    to_replicas: int
    reason: str
    inputs: _containers.ScalarMap[str, float]
    trigger: str
    driver: str
    applied: bool
    counted: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, time: _Optional[str] = ..., target: _Optional[str] = ..., from_replicas: _Optional[int] = ..., to_replicas: _Optional[int] = ..., reason: _Optional[str] = ..., inputs: _Optional[_Mapping[str, float]] = ..., trigger: _Optional[str] = ..., driver: _Optional[str] = ..., applied: _Optional[bool] = ..., counted: _Optional[_Iterable[str]] = ...) -> None: ...

class ScaleResponse(_message.Message):
    __slots__ = ("decision",)
    DECISION_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    def __init__(self, decision: _Optional[_Union[Decision, _Mapping]] = ...) -> None: ...

class GetAutoscalerStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TargetState(_message.Message):
    __slots__ = ("target", "replicas", "metric_value", "target_metric", "desired_replicas", "last_reason", "last_scale_time", "inputs")
    class InputsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    TARGET_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    METRIC_VALUE_FIELD_NUMBER: _ClassVar[int]
    TARGET_METRIC_FIELD_NUMBER: _ClassVar[int]
    DESIRED_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    LAST_REASON_FIELD_NUMBER: _ClassVar[int]
    LAST_SCALE_TIME_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    target: str
    replicas: int
    metric_value: float
    target_metric: str
    desired_replicas: int
    last_reason: str
    last_scale_time: str
    inputs: _containers.ScalarMap[str, float]
    def __init__(self, target: _Optional[str] = ..., replicas: _Optional[int] = ..., metric_value: _Optional[float] = ..., target_metric: _Optional[str] = ..., desired_replicas: _Optional[int] = ..., last_reason: _Optional[str] = ..., last_scale_time: _Optional[str] = ..., inputs: _Optional[_Mapping[str, float]] = ...) -> None: ...

class GetAutoscalerStatsResponse(_message.Message):
    __slots__ = ("running", "driver", "period_seconds", "targets", "recent_decisions", "evaluations", "last_evaluation_time", "last_error", "decisions_total")
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    RECENT_DECISIONS_FIELD_NUMBER: _ClassVar[int]
    EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    LAST_EVALUATION_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    running: bool
    driver: str
    period_seconds: float
    targets: _containers.RepeatedCompositeFieldContainer[TargetState]
    recent_decisions: _containers.RepeatedCompositeFieldContainer[Decision]
    evaluations: int
    last_evaluation_time: str
    last_error: str
    decisions_total: int
    def __init__(self, running: _Optional[bool] = ..., driver: _Optional[str] = ..., period_seconds: _Optional[float] = ..., targets: _Optional[_Iterable[_Union[TargetState, _Mapping]]] = ..., recent_decisions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ..., evaluations: _Optional[int] = ..., last_evaluation_time: _Optional[str] = ..., last_error: _Optional[str] = ..., decisions_total: _Optional[int] = ...) -> None: ...

class WatchDecisionsRequest(_message.Message):
    __slots__ = ("target",)
    TARGET_FIELD_NUMBER: _ClassVar[int]
    target: str
    def __init__(self, target: _Optional[str] = ...) -> None: ...

class WatchDecisionsResponse(_message.Message):
    __slots__ = ("decision",)
    DECISION_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    def __init__(self, decision: _Optional[_Union[Decision, _Mapping]] = ...) -> None: ...

class GetMetricsHistoryRequest(_message.Message):
    __slots__ = ("timeframe_seconds", "granularity_seconds")
    TIMEFRAME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    timeframe_seconds: float
    granularity_seconds: float
    def __init__(self, timeframe_seconds: _Optional[float] = ..., granularity_seconds: _Optional[float] = ...) -> None: ...

class MetricsSample(_message.Message):
    __slots__ = ("time", "cpu_usage", "memory_usage", "disk_usage", "network_rx", "network_tx", "request_rate", "response_time", "error_rate", "active_requests", "queue_depth", "tokens_per_second", "workers", "gpu_utilization", "gpu_memory", "samples", "has_inference_stats", "completed_per_second", "failed_per_second", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "models")
    TIME_FIELD_NUMBER: _ClassVar[int]
    CPU_USAGE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USAGE_FIELD_NUMBER: _ClassVar[int]
    DISK_USAGE_FIELD_NUMBER: _ClassVar[int]
    NETWORK_RX_FIELD_NUMBER: _ClassVar[int]
    NETWORK_TX_FIELD_NUMBER: _ClassVar[int]
    REQUEST_RATE_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    GPU_UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    GPU_MEMORY_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    HAS_INFERENCE_STATS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    FAILED_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_MS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    time: str
    cpu_usage: float
    memory_usage: float
    disk_usage: float
    network_rx: float
    network_tx: float
    request_rate: float
    response_time: float
    error_rate: float
    active_requests: int
    queue_depth: int
    tokens_per_second: float
    workers: int
    gpu_utilization: _containers.RepeatedScalarFieldContainer[float]
    gpu_memory: _containers.RepeatedScalarFieldContainer[float]
    samples: int
    has_inference_stats: bool
    completed_per_second: float
    failed_per_second: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    models: _containers.RepeatedCompositeFieldContainer[ModelSample]
    def __init__(self, time: _Optional[str] = ..., cpu_usage: _Optional[float] = ..., memory_usage: _Optional[float] = ..., disk_usage: _Optional[float] = ..., network_rx: _Optional[float] = ..., network_tx: _Optional[float] = ..., request_rate: _Optional[float] = ..., response_time: _Optional[float] = ..., error_rate: _Optional[float] = ..., active_requests: _Optional[int] = ..., queue_depth: _Optional[int] = ..., tokens_per_second: _Optional[float] = ..., workers: _Optional[int] = ..., gpu_utilization: _Optional[_Iterable[float]] = ..., gpu_memory: _Optional[_Iterable[float]] = ..., samples: _Optional[int] = ..., has_inference_stats: _Optional[bool] = ..., completed_per_second: _Optional[float] = ..., failed_per_second: _Optional[float] = ..., latency_p50_ms: _Optional[float] = ..., latency_p95_ms: _Optional[float] = ..., latency_p99_ms: _Optional[float] = ..., models: _Optional[_Iterable[_Union[ModelSample, _Mapping]]] = ...) -> None: ...

class ModelSample(_message.Message):
    __slots__ = ("model_name", "completed_per_second", "failed_per_second", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "in_flight", "queue_depth", "tokens_per_second", "replicas")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    FAILED_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P99_MS_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    completed_per_second: float
    failed_per_second: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_p99_ms: float
    in_flight: float
    queue_depth: float
    tokens_per_second: float
    replicas: float
    def __init__(self, model_name: _Optional[str] = ..., completed_per_second: _Optional[float] = ..., failed_per_second: _Optional[float] = ..., latency_p50_ms: _Optional[float] = ..., latency_p95_ms: _Optional[float] = ..., latency_p99_ms: _Optional[float] = ..., in_flight: _Optional[float] = ..., queue_depth: _Optional[float] = ..., tokens_per_second: _Optional[float] = ..., replicas: _Optional[float] = ...) -> None: ...

class GetMetricsHistoryResponse(_message.Message):
    __slots__ = ("points", "latest", "period_seconds", "samples_kept")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_KEPT_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[MetricsSample]
    latest: MetricsSample
    period_seconds: float
    samples_kept: int
    def __init__(self, points: _Optional[_Iterable[_Union[MetricsSample, _Mapping]]] = ..., latest: _Optional[_Union[MetricsSample, _Mapping]] = ..., period_seconds: _Optional[float] = ..., samples_kept: _Optional[int] = ...) -> None: ...
