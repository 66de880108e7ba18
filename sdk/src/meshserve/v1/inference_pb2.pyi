from meshserve.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FinishReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINISH_REASON_UNSPECIFIED: _ClassVar[FinishReason]
    FINISH_REASON_STOP: _ClassVar[FinishReason]
    FINISH_REASON_LENGTH: _ClassVar[FinishReason]
    FINISH_REASON_TOOL_CALLS: _ClassVar[FinishReason]

class PluginCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLUGIN_CATEGORY_UNSPECIFIED: _ClassVar[PluginCategory]
    PLUGIN_CATEGORY_PREPROCESSING: _ClassVar[PluginCategory]
    PLUGIN_CATEGORY_POSTPROCESSING: _ClassVar[PluginCategory]

class PluginStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLUGIN_STATUS_UNSPECIFIED: _ClassVar[PluginStatus]
    PLUGIN_STATUS_AVAILABLE: _ClassVar[PluginStatus]
    PLUGIN_STATUS_LOADED: _ClassVar[PluginStatus]
    PLUGIN_STATUS_FAILED: _ClassVar[PluginStatus]

class RoutingPriority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROUTING_PRIORITY_UNSPECIFIED: _ClassVar[RoutingPriority]
    ROUTING_PRIORITY_BALANCED: _ClassVar[RoutingPriority]
    ROUTING_PRIORITY_PERFORMANCE: _ClassVar[RoutingPriority]
    ROUTING_PRIORITY_COST: _ClassVar[RoutingPriority]
FINISH_REASON_UNSPECIFIED: FinishReason
FINISH_REASON_STOP: FinishReason
FINISH_REASON_LENGTH: FinishReason
FINISH_REASON_TOOL_CALLS: FinishReason
PLUGIN_CATEGORY_UNSPECIFIED: PluginCategory
PLUGIN_CATEGORY_PREPROCESSING: PluginCategory
PLUGIN_CATEGORY_POSTPROCESSING: PluginCategory
PLUGIN_STATUS_UNSPECIFIED: PluginStatus
PLUGIN_STATUS_AVAILABLE: PluginStatus
PLUGIN_STATUS_LOADED: PluginStatus
PLUGIN_STATUS_FAILED: PluginStatus
ROUTING_PRIORITY_UNSPECIFIED: RoutingPriority
ROUTING_PRIORITY_BALANCED: RoutingPriority
ROUTING_PRIORITY_PERFORMANCE: RoutingPriority
ROUTING_PRIORITY_COST: RoutingPriority

class BatchingConfig(_message.Message):
    __slots__ = ("max_batch_size", "preferred_batch_sizes", "max_queue_delay_microseconds")
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_BATCH_SIZES_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUE_DELAY_MICROSECONDS_FIELD_NUMBER: _ClassVar[int]
    max_batch_size: int
    preferred_batch_sizes: _containers.RepeatedScalarFieldContainer[int]
    max_queue_delay_microseconds: int
    def __init__(self, max_batch_size: _Optional[int] = ..., preferred_batch_sizes: _Optional[_Iterable[int]] = ..., max_queue_delay_microseconds: _Optional[int] = ...) -> None: ...

class PredictRequest(_message.Message):
    __slots__ = ("model", "inputs", "output_names", "request_id", "cast_inputs")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_NAMES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CAST_INPUTS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    inputs: _containers.RepeatedCompositeFieldContainer[_common_pb2.Tensor]
    output_names: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    cast_inputs: bool
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[_common_pb2.Tensor, _Mapping]]] = ..., output_names: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ..., cast_inputs: _Optional[bool] = ...) -> None: ...

class PredictResponse(_message.Message):
    __slots__ = ("model_name", "model_version", "outputs", "latency_ms", "request_id", "device", "worker_id")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    model_version: str
    outputs: _containers.RepeatedCompositeFieldContainer[_common_pb2.Tensor]
    latency_ms: float
    request_id: str
    device: str
    worker_id: str
    def __init__(self, model_name: _Optional[str] = ..., model_version: _Optional[str] = ..., outputs: _Optional[_Iterable[_Union[_common_pb2.Tensor, _Mapping]]] = ..., latency_ms: _Optional[float] = ..., request_id: _Optional[str] = ..., device: _Optional[str] = ..., worker_id: _Optional[str] = ...) -> None: ...

class PredictStreamRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: PredictRequest
    def __init__(self, request: _Optional[_Union[PredictRequest, _Mapping]] = ...) -> None: ...

class PredictStreamResponse(_message.Message):
    __slots__ = ("response",)
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    response: PredictResponse
    def __init__(self, response: _Optional[_Union[PredictResponse, _Mapping]] = ...) -> None: ...

class PredictBatchRequest(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[PredictBatchItem]
    def __init__(self, items: _Optional[_Iterable[_Union[PredictBatchItem, _Mapping]]] = ...) -> None: ...

class PredictBatchItem(_message.Message):
    __slots__ = ("request", "metadata", "timeout_seconds")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    request: PredictRequest
    metadata: _containers.ScalarMap[str, str]
    timeout_seconds: float
    def __init__(self, request: _Optional[_Union[PredictRequest, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., timeout_seconds: _Optional[float] = ...) -> None: ...

class PredictBatchResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[PredictOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[PredictOutcome, _Mapping]]] = ...) -> None: ...

class PredictBatchStreamRequest(_message.Message):
    __slots__ = ("id", "batch")
    ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    id: int
    batch: PredictBatchRequest
    def __init__(self, id: _Optional[int] = ..., batch: _Optional[_Union[PredictBatchRequest, _Mapping]] = ...) -> None: ...

class PredictBatchStreamResponse(_message.Message):
    __slots__ = ("id", "batch")
    ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    id: int
    batch: PredictBatchResponse
    def __init__(self, id: _Optional[int] = ..., batch: _Optional[_Union[PredictBatchResponse, _Mapping]] = ...) -> None: ...

class PredictOutcome(_message.Message):
    __slots__ = ("response", "error")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    response: PredictResponse
    error: _common_pb2.CallError
    def __init__(self, response: _Optional[_Union[PredictResponse, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.CallError, _Mapping]] = ...) -> None: ...

class SamplingParams(_message.Message):
    __slots__ = ("max_tokens", "temperature", "top_p", "top_k", "stop", "frequency_penalty", "presence_penalty", "seed", "max_completion_tokens", "logit_bias", "n", "logprobs", "top_logprobs", "response_format", "best_of")
    class LogitBiasEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: float
        def __init__(self, key: _Optional[int] = ..., value: _Optional[float] = ...) -> None: ...
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_PENALTY_FIELD_NUMBER: _ClassVar[int]
    PRESENCE_PENALTY_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    MAX_COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    LOGIT_BIAS_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    LOGPROBS_FIELD_NUMBER: _ClassVar[int]
    TOP_LOGPROBS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    BEST_OF_FIELD_NUMBER: _ClassVar[int]
    max_tokens: int
    temperature: float
    top_p: float
    top_k: int
    stop: _containers.RepeatedScalarFieldContainer[str]
    frequency_penalty: float
    presence_penalty: float
    seed: int
    max_completion_tokens: int
    logit_bias: _containers.ScalarMap[int, float]
    n: int
    logprobs: bool
    top_logprobs: int
    response_format: ResponseFormat
    best_of: int
    def __init__(self, max_tokens: _Optional[int] = ..., temperature: _Optional[float] = ..., top_p: _Optional[float] = ..., top_k: _Optional[int] = ..., stop: _Optional[_Iterable[str]] = ..., frequency_penalty: _Optional[float] = ..., presence_penalty: _Optional[float] = ..., seed: _Optional[int] = ..., max_completion_tokens: _Optional[int] = ..., logit_bias: _Optional[_Mapping[int, float]] = ..., n: _Optional[int] = ..., logprobs: _Optional[bool] = ..., top_logprobs: _Optional[int] = ..., response_format: _Optional[_Union[ResponseFormat, _Mapping]] = ..., best_of: _Optional[int] = ...) -> None: ...

class ResponseFormat(_message.Message):
    __slots__ = ("type", "schema_json")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    type: str
    schema_json: str
    def __init__(self, type: _Optional[str] = ..., schema_json: _Optional[str] = ...) -> None: ...

class ChatMessage(_message.Message):
    __slots__ = ("role", "content", "tool_calls", "tool_call_id")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALLS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_ID_FIELD_NUMBER: _ClassVar[int]
    role: str
    content: str
    tool_calls: _containers.RepeatedCompositeFieldContainer[ToolCall]
    tool_call_id: str
    def __init__(self, role: _Optional[str] = ..., content: _Optional[str] = ..., tool_calls: _Optional[_Iterable[_Union[ToolCall, _Mapping]]] = ..., tool_call_id: _Optional[str] = ...) -> None: ...

class Tool(_message.Message):
    __slots__ = ("name", "description", "parameters_json")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_JSON_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    parameters_json: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., parameters_json: _Optional[str] = ...) -> None: ...

class ToolCall(_message.Message):
    __slots__ = ("id", "name", "arguments_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    arguments_json: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., arguments_json: _Optional[str] = ...) -> None: ...

class GenerateRequest(_message.Message):
    __slots__ = ("model", "prompt", "messages", "sampling", "request_id", "tools", "tool_choice", "tool_choice_name", "user", "echo", "prompt_token_ids", "store_id", "previous_generation_id", "instruction_messages", "store_annotations_json", "conversation_id", "truncate_history")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CHOICE_FIELD_NUMBER: _ClassVar[int]
    TOOL_CHOICE_NAME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    ECHO_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKEN_IDS_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_GENERATION_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    STORE_ANNOTATIONS_JSON_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRUNCATE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    prompt: str
    messages: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    sampling: SamplingParams
    request_id: str
    tools: _containers.RepeatedCompositeFieldContainer[Tool]
    tool_choice: str
    tool_choice_name: str
    user: str
    echo: bool
    prompt_token_ids: _containers.RepeatedScalarFieldContainer[int]
    store_id: str
    previous_generation_id: str
    instruction_messages: int
    store_annotations_json: str
    conversation_id: str
    truncate_history: bool
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., prompt: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ..., sampling: _Optional[_Union[SamplingParams, _Mapping]] = ..., request_id: _Optional[str] = ..., tools: _Optional[_Iterable[_Union[Tool, _Mapping]]] = ..., tool_choice: _Optional[str] = ..., tool_choice_name: _Optional[str] = ..., user: _Optional[str] = ..., echo: _Optional[bool] = ..., prompt_token_ids: _Optional[_Iterable[int]] = ..., store_id: _Optional[str] = ..., previous_generation_id: _Optional[str] = ..., instruction_messages: _Optional[int] = ..., store_annotations_json: _Optional[str] = ..., conversation_id: _Optional[str] = ..., truncate_history: _Optional[bool] = ...) -> None: ...

class Conversation(_message.Message):
    __slots__ = ("id", "created", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    created: int
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., created: _Optional[int] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ConversationItem(_message.Message):
    __slots__ = ("id", "message")
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    message: ChatMessage
    def __init__(self, id: _Optional[str] = ..., message: _Optional[_Union[ChatMessage, _Mapping]] = ...) -> None: ...

class CreateConversationRequest(_message.Message):
    __slots__ = ("metadata", "items")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    metadata: _containers.ScalarMap[str, str]
    items: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    def __init__(self, metadata: _Optional[_Mapping[str, str]] = ..., items: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ...) -> None: ...

class CreateConversationResponse(_message.Message):
    __slots__ = ("conversation",)
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    conversation: Conversation
    def __init__(self, conversation: _Optional[_Union[Conversation, _Mapping]] = ...) -> None: ...

class GetConversationRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetConversationResponse(_message.Message):
    __slots__ = ("conversation",)
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    conversation: Conversation
    def __init__(self, conversation: _Optional[_Union[Conversation, _Mapping]] = ...) -> None: ...

class UpdateConversationRequest(_message.Message):
    __slots__ = ("id", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class UpdateConversationResponse(_message.Message):
    __slots__ = ("conversation",)
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    conversation: Conversation
    def __init__(self, conversation: _Optional[_Union[Conversation, _Mapping]] = ...) -> None: ...

class DeleteConversationRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteConversationResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListConversationItemsRequest(_message.Message):
    __slots__ = ("conversation_id", "after", "limit", "newest_first")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NEWEST_FIRST_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    after: str
    limit: int
    newest_first: bool
    def __init__(self, conversation_id: _Optional[str] = ..., after: _Optional[str] = ..., limit: _Optional[int] = ..., newest_first: _Optional[bool] = ...) -> None: ...

class ListConversationItemsResponse(_message.Message):
    __slots__ = ("items", "has_more")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ConversationItem]
    has_more: bool
    def __init__(self, items: _Optional[_Iterable[_Union[ConversationItem, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class AddConversationItemsRequest(_message.Message):
    __slots__ = ("conversation_id", "items")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    items: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    def __init__(self, conversation_id: _Optional[str] = ..., items: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ...) -> None: ...

class AddConversationItemsResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ConversationItem]
    def __init__(self, items: _Optional[_Iterable[_Union[ConversationItem, _Mapping]]] = ...) -> None: ...

class GetConversationItemRequest(_message.Message):
    __slots__ = ("conversation_id", "item_id")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    item_id: str
    def __init__(self, conversation_id: _Optional[str] = ..., item_id: _Optional[str] = ...) -> None: ...

class GetConversationItemResponse(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: ConversationItem
    def __init__(self, item: _Optional[_Union[ConversationItem, _Mapping]] = ...) -> None: ...

class DeleteConversationItemRequest(_message.Message):
    __slots__ = ("conversation_id", "item_id")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    item_id: str
    def __init__(self, conversation_id: _Optional[str] = ..., item_id: _Optional[str] = ...) -> None: ...

class DeleteConversationItemResponse(_message.Message):
    __slots__ = ("conversation",)
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    conversation: Conversation
    def __init__(self, conversation: _Optional[_Union[Conversation, _Mapping]] = ...) -> None: ...

class StoredGeneration(_message.Message):
    __slots__ = ("id", "model_name", "created", "previous_generation_id", "instructions", "history", "input", "output", "finish_reason", "usage", "annotations_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_GENERATION_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_JSON_FIELD_NUMBER: _ClassVar[int]
    id: str
    model_name: str
    created: int
    previous_generation_id: str
    instructions: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    history: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    input: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    output: ChatMessage
    finish_reason: FinishReason
    usage: Usage
    annotations_json: str
    def __init__(self, id: _Optional[str] = ..., model_name: _Optional[str] = ..., created: _Optional[int] = ..., previous_generation_id: _Optional[str] = ..., instructions: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ..., history: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ..., input: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ..., output: _Optional[_Union[ChatMessage, _Mapping]] = ..., finish_reason: _Optional[_Union[FinishReason, str]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., annotations_json: _Optional[str] = ...) -> None: ...

class GetStoredGenerationRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetStoredGenerationResponse(_message.Message):
    __slots__ = ("generation",)
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    generation: StoredGeneration
    def __init__(self, generation: _Optional[_Union[StoredGeneration, _Mapping]] = ...) -> None: ...

class DeleteStoredGenerationRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteStoredGenerationResponse(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens", "cached_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cached_tokens: _Optional[int] = ...) -> None: ...

class GenerateResponse(_message.Message):
    __slots__ = ("text", "index", "finish_reason", "usage", "model_name", "device", "request_id", "created", "cached", "mean_logprob", "choice", "logprobs", "tool_calls")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    MEAN_LOGPROB_FIELD_NUMBER: _ClassVar[int]
    CHOICE_FIELD_NUMBER: _ClassVar[int]
    LOGPROBS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALLS_FIELD_NUMBER: _ClassVar[int]
    text: str
    index: int
    finish_reason: FinishReason
    usage: Usage
    model_name: str
    device: str
    request_id: str
    created: int
    cached: bool
    mean_logprob: float
    choice: int
    logprobs: _containers.RepeatedCompositeFieldContainer[TokenLogprob]
    tool_calls: _containers.RepeatedCompositeFieldContainer[ToolCall]
    def __init__(self, text: _Optional[str] = ..., index: _Optional[int] = ..., finish_reason: _Optional[_Union[FinishReason, str]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., model_name: _Optional[str] = ..., device: _Optional[str] = ..., request_id: _Optional[str] = ..., created: _Optional[int] = ..., cached: _Optional[bool] = ..., mean_logprob: _Optional[float] = ..., choice: _Optional[int] = ..., logprobs: _Optional[_Iterable[_Union[TokenLogprob, _Mapping]]] = ..., tool_calls: _Optional[_Iterable[_Union[ToolCall, _Mapping]]] = ...) -> None: ...

class TokenLogprob(_message.Message):
    __slots__ = ("token", "logprob", "bytes", "top", "unscored")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    LOGPROB_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    UNSCORED_FIELD_NUMBER: _ClassVar[int]
    token: str
    logprob: float
    bytes: bytes
    top: _containers.RepeatedCompositeFieldContainer[TopLogprob]
    unscored: bool
    def __init__(self, token: _Optional[str] = ..., logprob: _Optional[float] = ..., bytes: _Optional[bytes] = ..., top: _Optional[_Iterable[_Union[TopLogprob, _Mapping]]] = ..., unscored: _Optional[bool] = ...) -> None: ...

class TopLogprob(_message.Message):
    __slots__ = ("token", "logprob", "bytes")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    LOGPROB_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    token: str
    logprob: float
    bytes: bytes
    def __init__(self, token: _Optional[str] = ..., logprob: _Optional[float] = ..., bytes: _Optional[bytes] = ...) -> None: ...

class EmbedRequest(_message.Message):
    __slots__ = ("model", "inputs", "dimensions", "request_id", "token_inputs")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_INPUTS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    inputs: _containers.RepeatedScalarFieldContainer[str]
    dimensions: int
    request_id: str
    token_inputs: _containers.RepeatedCompositeFieldContainer[TokenIds]
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., inputs: _Optional[_Iterable[str]] = ..., dimensions: _Optional[int] = ..., request_id: _Optional[str] = ..., token_inputs: _Optional[_Iterable[_Union[TokenIds, _Mapping]]] = ...) -> None: ...

class TokenIds(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, ids: _Optional[_Iterable[int]] = ...) -> None: ...

class Embedding(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class EmbedResponse(_message.Message):
    __slots__ = ("model_name", "embeddings", "usage", "device")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    embeddings: _containers.RepeatedCompositeFieldContainer[Embedding]
    usage: Usage
    device: str
    def __init__(self, model_name: _Optional[str] = ..., embeddings: _Optional[_Iterable[_Union[Embedding, _Mapping]]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., device: _Optional[str] = ...) -> None: ...

class TokenizeRequest(_message.Message):
    __slots__ = ("model", "prompt", "messages", "add_special_tokens", "return_token_strs")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    ADD_SPECIAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    RETURN_TOKEN_STRS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    prompt: str
    messages: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    add_special_tokens: bool
    return_token_strs: bool
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., prompt: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ..., add_special_tokens: _Optional[bool] = ..., return_token_strs: _Optional[bool] = ...) -> None: ...

class TokenizeResponse(_message.Message):
    __slots__ = ("model_name", "tokens", "max_model_len", "token_strs")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_MODEL_LEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_STRS_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    tokens: _containers.RepeatedScalarFieldContainer[int]
    max_model_len: int
    token_strs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model_name: _Optional[str] = ..., tokens: _Optional[_Iterable[int]] = ..., max_model_len: _Optional[int] = ..., token_strs: _Optional[_Iterable[str]] = ...) -> None: ...

class DetokenizeRequest(_message.Message):
    __slots__ = ("model", "tokens")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    tokens: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., tokens: _Optional[_Iterable[int]] = ...) -> None: ...

class DetokenizeResponse(_message.Message):
    __slots__ = ("prompt",)
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    def __init__(self, prompt: _Optional[str] = ...) -> None: ...

class GetTokenizerInfoRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ...) -> None: ...

class GetTokenizerInfoResponse(_message.Message):
    __slots__ = ("model_name", "tokenizer_class", "eos_token", "bos_token", "pad_token", "chat_template", "max_model_len", "vocab_size")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    TOKENIZER_CLASS_FIELD_NUMBER: _ClassVar[int]
    EOS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    BOS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAD_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CHAT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    MAX_MODEL_LEN_FIELD_NUMBER: _ClassVar[int]
    VOCAB_SIZE_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    tokenizer_class: str
    eos_token: str
    bos_token: str
    pad_token: str
    chat_template: str
    max_model_len: int
    vocab_size: int
    def __init__(self, model_name: _Optional[str] = ..., tokenizer_class: _Optional[str] = ..., eos_token: _Optional[str] = ..., bos_token: _Optional[str] = ..., pad_token: _Optional[str] = ..., chat_template: _Optional[str] = ..., max_model_len: _Optional[int] = ..., vocab_size: _Optional[int] = ...) -> None: ...

class GetGenerationStatsRequest(_message.Message):
    __slots__ = ("model_name",)
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    def __init__(self, model_name: _Optional[str] = ...) -> None: ...

class GenerationStats(_message.Message):
    __slots__ = ("model_name", "worker_id", "active_sequences", "waiting_sequences", "slots", "completed", "tokens_generated", "device", "context_length", "engine", "engine_reason", "threads")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    WAITING_SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    TOKENS_GENERATED_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_REASON_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    worker_id: str
    active_sequences: int
    waiting_sequences: int
    slots: int
    completed: int
    tokens_generated: int
    device: str
    context_length: int
    engine: str
    engine_reason: str
    threads: int
    def __init__(self, model_name: _Optional[str] = ..., worker_id: _Optional[str] = ..., active_sequences: _Optional[int] = ..., waiting_sequences: _Optional[int] = ..., slots: _Optional[int] = ..., completed: _Optional[int] = ..., tokens_generated: _Optional[int] = ..., device: _Optional[str] = ..., context_length: _Optional[int] = ..., engine: _Optional[str] = ..., engine_reason: _Optional[str] = ..., threads: _Optional[int] = ...) -> None: ...

class GetGenerationStatsResponse(_message.Message):
    __slots__ = ("models", "open_streams")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    OPEN_STREAMS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[GenerationStats]
    open_streams: int
    def __init__(self, models: _Optional[_Iterable[_Union[GenerationStats, _Mapping]]] = ..., open_streams: _Optional[int] = ...) -> None: ...

class LoadModelRequest(_message.Message):
    __slots__ = ("model", "batching", "device", "replicas", "quantization", "max_memory", "this_replica_only")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    BATCHING_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    MAX_MEMORY_FIELD_NUMBER: _ClassVar[int]
    THIS_REPLICA_ONLY_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    batching: BatchingConfig
    device: str
    replicas: int
    quantization: str
    max_memory: str
    this_replica_only: bool
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., batching: _Optional[_Union[BatchingConfig, _Mapping]] = ..., device: _Optional[str] = ..., replicas: _Optional[int] = ..., quantization: _Optional[str] = ..., max_memory: _Optional[str] = ..., this_replica_only: _Optional[bool] = ...) -> None: ...

class ModelState(_message.Message):
    __slots__ = ("model", "status", "worker_ids", "memory_bytes", "load_seconds", "device", "batching", "triton_name", "status_reason", "engine", "engine_reason", "context_length", "vocab_size", "quantization", "tokens_per_second", "loads", "evictions")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WORKER_IDS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    LOAD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    BATCHING_FIELD_NUMBER: _ClassVar[int]
    TRITON_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_REASON_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    VOCAB_SIZE_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    LOADS_FIELD_NUMBER: _ClassVar[int]
    EVICTIONS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    status: _common_pb2.ModelStatus
    worker_ids: _containers.RepeatedScalarFieldContainer[str]
    memory_bytes: int
    load_seconds: float
    device: str
    batching: BatchingConfig
    triton_name: str
    status_reason: str
    engine: str
    engine_reason: str
    context_length: int
    vocab_size: int
    quantization: str
    tokens_per_second: float
    loads: int
    evictions: int
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.ModelStatus, str]] = ..., worker_ids: _Optional[_Iterable[str]] = ..., memory_bytes: _Optional[int] = ..., load_seconds: _Optional[float] = ..., device: _Optional[str] = ..., batching: _Optional[_Union[BatchingConfig, _Mapping]] = ..., triton_name: _Optional[str] = ..., status_reason: _Optional[str] = ..., engine: _Optional[str] = ..., engine_reason: _Optional[str] = ..., context_length: _Optional[int] = ..., vocab_size: _Optional[int] = ..., quantization: _Optional[str] = ..., tokens_per_second: _Optional[float] = ..., loads: _Optional[int] = ..., evictions: _Optional[int] = ...) -> None: ...

class LoadModelResponse(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: ModelState
    def __init__(self, state: _Optional[_Union[ModelState, _Mapping]] = ...) -> None: ...

class UnloadModelRequest(_message.Message):
    __slots__ = ("model", "standby", "this_replica_only")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STANDBY_FIELD_NUMBER: _ClassVar[int]
    THIS_REPLICA_ONLY_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    standby: bool
    this_replica_only: bool
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., standby: _Optional[bool] = ..., this_replica_only: _Optional[bool] = ...) -> None: ...

class UnloadModelResponse(_message.Message):
    __slots__ = ("freed_memory_bytes",)
    FREED_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    freed_memory_bytes: int
    def __init__(self, freed_memory_bytes: _Optional[int] = ...) -> None: ...

class ListModelStatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelStatesResponse(_message.Message):
    __slots__ = ("states",)
    STATES_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedCompositeFieldContainer[ModelState]
    def __init__(self, states: _Optional[_Iterable[_Union[ModelState, _Mapping]]] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ("model_name",)
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    def __init__(self, model_name: _Optional[str] = ...) -> None: ...

class LatencySummary(_message.Message):
    __slots__ = ("p50_ms", "p90_ms", "p99_ms", "mean_ms", "p95_ms")
    P50_MS_FIELD_NUMBER: _ClassVar[int]
    P90_MS_FIELD_NUMBER: _ClassVar[int]
    P99_MS_FIELD_NUMBER: _ClassVar[int]
    MEAN_MS_FIELD_NUMBER: _ClassVar[int]
    P95_MS_FIELD_NUMBER: _ClassVar[int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    p95_ms: float
    def __init__(self, p50_ms: _Optional[float] = ..., p90_ms: _Optional[float] = ..., p99_ms: _Optional[float] = ..., mean_ms: _Optional[float] = ..., p95_ms: _Optional[float] = ...) -> None: ...

class ModelStats(_message.Message):
    __slots__ = ("model_name", "requests", "failures", "in_flight", "queue_depth", "latency", "queue_ms", "request_rate", "tokens_per_second", "replicas", "in_flight_seconds")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_MS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_RATE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    requests: int
    failures: int
    in_flight: int
    queue_depth: int
    latency: LatencySummary
    queue_ms: float
    request_rate: float
    tokens_per_second: float
    replicas: int
    in_flight_seconds: float
    def __init__(self, model_name: _Optional[str] = ..., requests: _Optional[int] = ..., failures: _Optional[int] = ..., in_flight: _Optional[int] = ..., queue_depth: _Optional[int] = ..., latency: _Optional[_Union[LatencySummary, _Mapping]] = ..., queue_ms: _Optional[float] = ..., request_rate: _Optional[float] = ..., tokens_per_second: _Optional[float] = ..., replicas: _Optional[int] = ..., in_flight_seconds: _Optional[float] = ...) -> None: ...

class WorkerStats(_message.Message):
    __slots__ = ("worker_id", "in_flight", "requests", "failures", "utilization")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    in_flight: int
    requests: int
    failures: int
    utilization: float
    def __init__(self, worker_id: _Optional[str] = ..., in_flight: _Optional[int] = ..., requests: _Optional[int] = ..., failures: _Optional[int] = ..., utilization: _Optional[float] = ...) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("models", "workers", "uptime_seconds")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelStats]
    workers: _containers.RepeatedCompositeFieldContainer[WorkerStats]
    uptime_seconds: float
    def __init__(self, models: _Optional[_Iterable[_Union[ModelStats, _Mapping]]] = ..., workers: _Optional[_Iterable[_Union[WorkerStats, _Mapping]]] = ..., uptime_seconds: _Optional[float] = ...) -> None: ...

class ListWorkersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Worker(_message.Message):
    __slots__ = ("id", "grpc_address", "http_address", "pid", "state", "models", "device", "restarts")
    ID_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    HTTP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    grpc_address: str
    http_address: str
    pid: int
    state: str
    models: _containers.RepeatedScalarFieldContainer[str]
    device: str
    restarts: int
    def __init__(self, id: _Optional[str] = ..., grpc_address: _Optional[str] = ..., http_address: _Optional[str] = ..., pid: _Optional[int] = ..., state: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., device: _Optional[str] = ..., restarts: _Optional[int] = ...) -> None: ...

class ListWorkersResponse(_message.Message):
    __slots__ = ("workers",)
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    workers: _containers.RepeatedCompositeFieldContainer[Worker]
    def __init__(self, workers: _Optional[_Iterable[_Union[Worker, _Mapping]]] = ...) -> None: ...

class SetWorkerCountRequest(_message.Message):
    __slots__ = ("count", "reason")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    count: int
    reason: str
    def __init__(self, count: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class SetWorkerCountResponse(_message.Message):
    __slots__ = ("previous", "current")
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    previous: int
    current: int
    def __init__(self, previous: _Optional[int] = ..., current: _Optional[int] = ...) -> None: ...

class GetDeviceInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Device(_message.Message):
    __slots__ = ("id", "name", "memory_total_bytes", "memory_used_bytes", "utilization_percent", "compute_capability", "temperature_celsius", "driver_version", "cuda_version", "power_usage_watts", "power_limit_watts")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    UTILIZATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_CELSIUS_FIELD_NUMBER: _ClassVar[int]
    DRIVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    CUDA_VERSION_FIELD_NUMBER: _ClassVar[int]
    POWER_USAGE_WATTS_FIELD_NUMBER: _ClassVar[int]
    POWER_LIMIT_WATTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    memory_total_bytes: int
    memory_used_bytes: int
    utilization_percent: float
    compute_capability: str
    temperature_celsius: float
    driver_version: str
    cuda_version: str
    power_usage_watts: float
    power_limit_watts: float
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., memory_total_bytes: _Optional[int] = ..., memory_used_bytes: _Optional[int] = ..., utilization_percent: _Optional[float] = ..., compute_capability: _Optional[str] = ..., temperature_celsius: _Optional[float] = ..., driver_version: _Optional[str] = ..., cuda_version: _Optional[str] = ..., power_usage_watts: _Optional[float] = ..., power_limit_watts: _Optional[float] = ...) -> None: ...

class GetDeviceInfoResponse(_message.Message):
    __slots__ = ("cuda_available", "devices", "summary")
    CUDA_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    cuda_available: bool
    devices: _containers.RepeatedCompositeFieldContainer[Device]
    summary: str
    def __init__(self, cuda_available: _Optional[bool] = ..., devices: _Optional[_Iterable[_Union[Device, _Mapping]]] = ..., summary: _Optional[str] = ...) -> None: ...

class PluginConfig(_message.Message):
    __slots__ = ("enabled", "priority", "settings_json")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_JSON_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    priority: int
    settings_json: str
    def __init__(self, enabled: _Optional[bool] = ..., priority: _Optional[int] = ..., settings_json: _Optional[str] = ...) -> None: ...

class Plugin(_message.Message):
    __slots__ = ("id", "name", "version", "status", "category", "author", "description", "source", "settings_schema_json", "config", "load_seconds", "loaded_at", "applied", "failures", "status_reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    LOAD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LOADED_AT_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    version: str
    status: PluginStatus
    category: PluginCategory
    author: str
    description: str
    source: str
    settings_schema_json: str
    config: PluginConfig
    load_seconds: float
    loaded_at: float
    applied: int
    failures: int
    status_reason: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., status: _Optional[_Union[PluginStatus, str]] = ..., category: _Optional[_Union[PluginCategory, str]] = ..., author: _Optional[str] = ..., description: _Optional[str] = ..., source: _Optional[str] = ..., settings_schema_json: _Optional[str] = ..., config: _Optional[_Union[PluginConfig, _Mapping]] = ..., load_seconds: _Optional[float] = ..., loaded_at: _Optional[float] = ..., applied: _Optional[int] = ..., failures: _Optional[int] = ..., status_reason: _Optional[str] = ...) -> None: ...

class ListPluginsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPluginsResponse(_message.Message):
    __slots__ = ("plugins",)
    PLUGINS_FIELD_NUMBER: _ClassVar[int]
    plugins: _containers.RepeatedCompositeFieldContainer[Plugin]
    def __init__(self, plugins: _Optional[_Iterable[_Union[Plugin, _Mapping]]] = ...) -> None: ...

class LoadPluginRequest(_message.Message):
    __slots__ = ("plugin_id", "config")
    PLUGIN_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    plugin_id: str
    config: PluginConfig
    def __init__(self, plugin_id: _Optional[str] = ..., config: _Optional[_Union[PluginConfig, _Mapping]] = ...) -> None: ...

class LoadPluginResponse(_message.Message):
    __slots__ = ("plugin",)
    PLUGIN_FIELD_NUMBER: _ClassVar[int]
    plugin: Plugin
    def __init__(self, plugin: _Optional[_Union[Plugin, _Mapping]] = ...) -> None: ...

class UnloadPluginRequest(_message.Message):
    __slots__ = ("plugin_id",)
    PLUGIN_ID_FIELD_NUMBER: _ClassVar[int]
    plugin_id: str
    def __init__(self, plugin_id: _Optional[str] = ...) -> None: ...

class UnloadPluginResponse(_message.Message):
    __slots__ = ("plugin_id",)
    PLUGIN_ID_FIELD_NUMBER: _ClassVar[int]
    plugin_id: str
    def __init__(self, plugin_id: _Optional[str] = ...) -> None: ...

class ConfigurePluginRequest(_message.Message):
    __slots__ = ("plugin_id", "config")
    PLUGIN_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    plugin_id: str
    config: PluginConfig
    def __init__(self, plugin_id: _Optional[str] = ..., config: _Optional[_Union[PluginConfig, _Mapping]] = ...) -> None: ...

class ConfigurePluginResponse(_message.Message):
    __slots__ = ("plugin",)
    PLUGIN_FIELD_NUMBER: _ClassVar[int]
    plugin: Plugin
    def __init__(self, plugin: _Optional[_Union[Plugin, _Mapping]] = ...) -> None: ...

class SelectModelRequest(_message.Message):
    __slots__ = ("capability", "priority")
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    capability: str
    priority: RoutingPriority
    def __init__(self, capability: _Optional[str] = ..., priority: _Optional[_Union[RoutingPriority, str]] = ...) -> None: ...

class ModelCandidate(_message.Message):
    __slots__ = ("model_name", "source", "size_bytes", "loaded", "latency_p50_ms", "requests", "capabilities")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    LOADED_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    source: str
    size_bytes: int
    loaded: bool
    latency_p50_ms: float
    requests: int
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model_name: _Optional[str] = ..., source: _Optional[str] = ..., size_bytes: _Optional[int] = ..., loaded: _Optional[bool] = ..., latency_p50_ms: _Optional[float] = ..., requests: _Optional[int] = ..., capabilities: _Optional[_Iterable[str]] = ...) -> None: ...

class SelectModelResponse(_message.Message):
    __slots__ = ("model_name", "reason", "candidates", "priority")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    reason: str
    candidates: _containers.RepeatedCompositeFieldContainer[ModelCandidate]
    priority: RoutingPriority
    def __init__(self, model_name: _Optional[str] = ..., reason: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[ModelCandidate, _Mapping]]] = ..., priority: _Optional[_Union[RoutingPriority, str]] = ...) -> None: ...

class BenchmarkCase(_message.Message):
    __slots__ = ("name", "prompt")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    name: str
    prompt: str
    def __init__(self, name: _Optional[str] = ..., prompt: _Optional[str] = ...) -> None: ...

class RunBenchmarkRequest(_message.Message):
    __slots__ = ("models", "cases", "max_tokens", "repetitions")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    CASES_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REPETITIONS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedScalarFieldContainer[str]
    cases: _containers.RepeatedCompositeFieldContainer[BenchmarkCase]
    max_tokens: int
    repetitions: int
    def __init__(self, models: _Optional[_Iterable[str]] = ..., cases: _Optional[_Iterable[_Union[BenchmarkCase, _Mapping]]] = ..., max_tokens: _Optional[int] = ..., repetitions: _Optional[int] = ...) -> None: ...

class BenchmarkCaseResult(_message.Message):
    __slots__ = ("name", "prompt", "runs", "latency_p50_ms", "latency_min_ms", "latency_max_ms", "first_token_p50_ms", "tokens_per_second", "completion_tokens", "sample_output")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MIN_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MAX_MS_FIELD_NUMBER: _ClassVar[int]
    FIRST_TOKEN_P50_MS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    name: str
    prompt: str
    runs: int
    latency_p50_ms: float
    latency_min_ms: float
    latency_max_ms: float
    first_token_p50_ms: float
    tokens_per_second: float
    completion_tokens: int
    sample_output: str
    def __init__(self, name: _Optional[str] = ..., prompt: _Optional[str] = ..., runs: _Optional[int] = ..., latency_p50_ms: _Optional[float] = ..., latency_min_ms: _Optional[float] = ..., latency_max_ms: _Optional[float] = ..., first_token_p50_ms: _Optional[float] = ..., tokens_per_second: _Optional[float] = ..., completion_tokens: _Optional[int] = ..., sample_output: _Optional[str] = ...) -> None: ...

class BenchmarkModelResult(_message.Message):
    __slots__ = ("model_name", "resolved_model", "error_code", "error_message", "cases", "device")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_MODEL_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CASES_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    resolved_model: str
    error_code: str
    error_message: str
    cases: _containers.RepeatedCompositeFieldContainer[BenchmarkCaseResult]
    device: str
    def __init__(self, model_name: _Optional[str] = ..., resolved_model: _Optional[str] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ..., cases: _Optional[_Iterable[_Union[BenchmarkCaseResult, _Mapping]]] = ..., device: _Optional[str] = ...) -> None: ...

class RunBenchmarkResponse(_message.Message):
    __slots__ = ("models", "max_tokens", "repetitions", "seconds")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REPETITIONS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[BenchmarkModelResult]
    max_tokens: int
    repetitions: int
    seconds: float
    def __init__(self, models: _Optional[_Iterable[_Union[BenchmarkModelResult, _Mapping]]] = ..., max_tokens: _Optional[int] = ..., repetitions: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class PrefetchCacheRequest(_message.Message):
    __slots__ = ("model", "prompts", "sampling", "ttl_seconds")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPTS_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    model: _common_pb2.ModelRef
    prompts: _containers.RepeatedScalarFieldContainer[str]
    sampling: SamplingParams
    ttl_seconds: float
    def __init__(self, model: _Optional[_Union[_common_pb2.ModelRef, _Mapping]] = ..., prompts: _Optional[_Iterable[str]] = ..., sampling: _Optional[_Union[SamplingParams, _Mapping]] = ..., ttl_seconds: _Optional[float] = ...) -> None: ...

class PrefetchEntry(_message.Message):
    __slots__ = ("prompt", "stored", "already_cached", "completion_tokens", "seconds", "expires_at", "error_code", "error_message")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    ALREADY_CACHED_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    stored: bool
    already_cached: bool
    completion_tokens: int
    seconds: float
    expires_at: float
    error_code: str
    error_message: str
    def __init__(self, prompt: _Optional[str] = ..., stored: _Optional[bool] = ..., already_cached: _Optional[bool] = ..., completion_tokens: _Optional[int] = ..., seconds: _Optional[float] = ..., expires_at: _Optional[float] = ..., error_code: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class PrefetchCacheResponse(_message.Message):
    __slots__ = ("model_name", "entries", "stats")
    MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    model_name: str
    entries: _containers.RepeatedCompositeFieldContainer[PrefetchEntry]
    stats: GetCacheStatsResponse
    def __init__(self, model_name: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[PrefetchEntry, _Mapping]]] = ..., stats: _Optional[_Union[GetCacheStatsResponse, _Mapping]] = ...) -> None: ...

class GetCacheStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCacheStatsResponse(_message.Message):
    __slots__ = ("entries", "capacity", "hits", "misses", "bypassed", "hit_rate", "stored", "evicted")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    BYPASSED_FIELD_NUMBER: _ClassVar[int]
    HIT_RATE_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    EVICTED_FIELD_NUMBER: _ClassVar[int]
    entries: int
    capacity: int
    hits: int
    misses: int
    bypassed: int
    hit_rate: float
    stored: int
    evicted: int
    def __init__(self, entries: _Optional[int] = ..., capacity: _Optional[int] = ..., hits: _Optional[int] = ..., misses: _Optional[int] = ..., bypassed: _Optional[int] = ..., hit_rate: _Optional[float] = ..., stored: _Optional[int] = ..., evicted: _Optional[int] = ...) -> None: ...
