from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrainingExample(_message.Message):
    __slots__ = ("turns",)
    TURNS_FIELD_NUMBER: _ClassVar[int]
    turns: _containers.RepeatedCompositeFieldContainer[ExampleTurn]
    def __init__(self, turns: _Optional[_Iterable[_Union[ExampleTurn, _Mapping]]] = ...) -> None: ...

class ExampleTurn(_message.Message):
    __slots__ = ("role", "content")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    role: str
    content: str
    def __init__(self, role: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class FineTuneConfig(_message.Message):
    __slots__ = ("epochs", "learning_rate", "batch_size", "validation_split", "lora_rank", "max_steps", "seed", "callback_url")
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_SPLIT_FIELD_NUMBER: _ClassVar[int]
    LORA_RANK_FIELD_NUMBER: _ClassVar[int]
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_URL_FIELD_NUMBER: _ClassVar[int]
    epochs: int
    learning_rate: float
    batch_size: int
    validation_split: float
    lora_rank: int
    max_steps: int
    seed: int
    callback_url: str
    def __init__(self, epochs: _Optional[int] = ..., learning_rate: _Optional[float] = ..., batch_size: _Optional[int] = ..., validation_split: _Optional[float] = ..., lora_rank: _Optional[int] = ..., max_steps: _Optional[int] = ..., seed: _Optional[int] = ..., callback_url: _Optional[str] = ...) -> None: ...

class CreateFineTuneRequest(_message.Message):
    __slots__ = ("base_model", "examples", "config", "output_name")
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    base_model: str
    examples: _containers.RepeatedCompositeFieldContainer[TrainingExample]
    config: FineTuneConfig
    output_name: str
    def __init__(self, base_model: _Optional[str] = ..., examples: _Optional[_Iterable[_Union[TrainingExample, _Mapping]]] = ..., config: _Optional[_Union[FineTuneConfig, _Mapping]] = ..., output_name: _Optional[str] = ...) -> None: ...

class CreateFineTuneResponse(_message.Message):
    __slots__ = ("fine_tune",)
    FINE_TUNE_FIELD_NUMBER: _ClassVar[int]
    fine_tune: FineTune
    def __init__(self, fine_tune: _Optional[_Union[FineTune, _Mapping]] = ...) -> None: ...

class GetFineTuneRequest(_message.Message):
    __slots__ = ("fine_tune_id",)
    FINE_TUNE_ID_FIELD_NUMBER: _ClassVar[int]
    fine_tune_id: str
    def __init__(self, fine_tune_id: _Optional[str] = ...) -> None: ...

class GetFineTuneResponse(_message.Message):
    __slots__ = ("fine_tune",)
    FINE_TUNE_FIELD_NUMBER: _ClassVar[int]
    fine_tune: FineTune
    def __init__(self, fine_tune: _Optional[_Union[FineTune, _Mapping]] = ...) -> None: ...

class CancelFineTuneRequest(_message.Message):
    __slots__ = ("fine_tune_id",)
    FINE_TUNE_ID_FIELD_NUMBER: _ClassVar[int]
    fine_tune_id: str
    def __init__(self, fine_tune_id: _Optional[str] = ...) -> None: ...

class CancelFineTuneResponse(_message.Message):
    __slots__ = ("fine_tune",)
    FINE_TUNE_FIELD_NUMBER: _ClassVar[int]
    fine_tune: FineTune
    def __init__(self, fine_tune: _Optional[_Union[FineTune, _Mapping]] = ...) -> None: ...

class FineTune(_message.Message):
    __slots__ = ("fine_tune_id", "status", "base_model", "output_name", "output_version", "step", "total_steps", "loss", "eval_loss_before", "eval_loss", "eta_seconds", "train_examples", "eval_examples", "dataset_sha256", "created_at", "finished_at", "error", "config_json")
    FINE_TUNE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_VERSION_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    EVAL_LOSS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    EVAL_LOSS_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    EVAL_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    DATASET_SHA256_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    fine_tune_id: str
    status: str
    base_model: str
    output_name: str
    output_version: str
    step: int
    total_steps: int
    loss: float
    eval_loss_before: float
    eval_loss: float
    eta_seconds: float
    train_examples: int
    eval_examples: int
    dataset_sha256: str
    created_at: str
    finished_at: str
    error: str
    config_json: str
    def __init__(self, fine_tune_id: _Optional[str] = ..., status: _Optional[str] = ..., base_model: _Optional[str] = ..., output_name: _Optional[str] = ..., output_version: _Optional[str] = ..., step: _Optional[int] = ..., total_steps: _Optional[int] = ..., loss: _Optional[float] = ..., eval_loss_before: _Optional[float] = ..., eval_loss: _Optional[float] = ..., eta_seconds: _Optional[float] = ..., train_examples: _Optional[int] = ..., eval_examples: _Optional[int] = ..., dataset_sha256: _Optional[str] = ..., created_at: _Optional[str] = ..., finished_at: _Optional[str] = ..., error: _Optional[str] = ..., config_json: _Optional[str] = ...) -> None: ...
