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
    __slots__ = ("time", "target", "from_replicas", "to_replicas", "reason", "inputs", "trigger", "driver", "applied")
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
    time: str
    target: str
    from_replicas: int
    to_replicas: int
    reason: str
    inputs: _containers.ScalarMap[str, float]
    trigger: str
    driver: str
    applied: bool
    def __init__(self, time: _Optional[str] = ..., target: _Optional[str] = ..., from_replicas: _Optional[int] = ..., to_replicas: _Optional[int] = ..., reason: _Optional[str] = ..., inputs: _Optional[_Mapping[str, float]] = ..., trigger: _Optional[str] = ..., driver: _Optional[str] = ..., applied: _Optional[bool] = ...) -> None: ...

class ScaleResponse(_message.Message):
    __slots__ = ("decision",)
    DECISION_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    def __init__(self, decision: _Optional[_Union[Decision, _Mapping]] = ...) -> None: ...

class GetAutoscalerStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TargetState(_message.Message):
    __slots__ = ("target", "replicas", "metric_value")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    METRIC_VALUE_FIELD_NUMBER: _ClassVar[int]
    target: str
    replicas: int
    metric_value: float
    def __init__(self, target: _Optional[str] = ..., replicas: _Optional[int] = ..., metric_value: _Optional[float] = ...) -> None: ...

class GetAutoscalerStatsResponse(_message.Message):
    __slots__ = ("running", "driver", "period_seconds", "targets", "recent_decisions", "evaluations")
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    DRIVER_FIELD_NUMBER: _ClassVar[int]
    PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    RECENT_DECISIONS_FIELD_NUMBER: _ClassVar[int]
    EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    running: bool
    driver: str
    period_seconds: float
    targets: _containers.RepeatedCompositeFieldContainer[TargetState]
    recent_decisions: _containers.RepeatedCompositeFieldContainer[Decision]
    evaluations: int
    def __init__(self, running: _Optional[bool] = ..., driver: _Optional[str] = ..., period_seconds: _Optional[float] = ..., targets: _Optional[_Iterable[_Union[TargetState, _Mapping]]] = ..., recent_decisions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ..., evaluations: _Optional[int] = ...) -> None: ...

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
