"""gRPC face of text generation: ``Generate``, ``Embed`` and ``GetGenerationStats``, translated to and
from the generation pipeline (:mod:`services.inference.llm.pipeline`), which does the work.

The converters here are the only place a GenerateRequest or SamplingParams message becomes a
canonical :class:`~services.inference.llm.requests.GenerationRequest` (job items use them too).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import grpc

from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput, NotImplementedYet
from services.inference.llm.chunks import Chunk
from services.inference.llm.pipeline import GenerationPipeline
from services.inference.llm.requests import GenerationRequest, SamplingRequest
from services.inference.llm.service import GenerationService
from services.inference.llm.tools import ToolCall, ToolSpec, ToolUse, render_calls
from services.inference.llm.truncation import fit_history
from services.inference.llm.vocabulary import Vocabulary
from services.inference.metering.allowance import Allowance
from services.inference.plugins.base import Message
from services.inference.stored_generations import (
    Recording,
    StoredGenerations,
    instruction_count,
    keeping_fields,
)

#: Trailing metadata of ``Generate``: the longest wait of its choices for a batch slot, in seconds.
QUEUE_SECONDS_TRAILER = "x-meshserve-queue-seconds"

FINISH_REASONS = {
    "stop": pb.FINISH_REASON_STOP,
    "length": pb.FINISH_REASON_LENGTH,
    "tool_calls": pb.FINISH_REASON_TOOL_CALLS,
}


def sampling_from_proto(s: pb.SamplingParams) -> SamplingRequest:
    """A SamplingParams message in canonical terms (max_completion_tokens wins over max_tokens; a
    max_tokens of 0 means "not said")."""
    max_tokens: int | None = None
    if s.HasField("max_completion_tokens"):
        max_tokens = s.max_completion_tokens
    elif s.max_tokens:
        max_tokens = s.max_tokens
    return SamplingRequest(
        max_tokens=max_tokens,
        temperature=s.temperature if s.HasField("temperature") else None,
        top_p=s.top_p if s.HasField("top_p") else None,
        top_k=s.top_k,
        stop=tuple(s.stop),
        frequency_penalty=s.frequency_penalty,
        presence_penalty=s.presence_penalty,
        seed=s.seed if s.HasField("seed") else None,
        logit_bias=tuple(sorted(s.logit_bias.items())),
        n=s.n or 1,
        best_of=s.best_of,
        logprobs=s.logprobs,
        top_logprobs=s.top_logprobs,
        response_format=response_format_from_proto(s.response_format)
        if s.HasField("response_format")
        else None,
    )


def response_format_from_proto(message: pb.ResponseFormat) -> dict[str, object]:
    """A ResponseFormat message as the canonical dict (its schema parsed)."""
    kind = message.type or "text"
    if kind != "json_schema":
        return {"type": kind}
    try:
        schema = json.loads(message.schema_json)
    except ValueError as error:
        raise InvalidInput(
            f"response_format schema is not JSON: {error}", details={"field": "response_format.schema"}
        ) from None
    return {"type": kind, "schema": schema}


def request_from_proto(request: pb.GenerateRequest) -> GenerationRequest:
    """A GenerateRequest message in canonical terms (an assistant message's tool calls become its
    text, in the convention the model is told to call tools with). A prompt comes as text or as
    token ids, not both: plugins read the text, so the two could say different things."""
    if request.prompt and request.prompt_token_ids:
        raise InvalidInput(
            "send the prompt as text or as token ids, not both", details={"field": "prompt_token_ids"}
        )
    return GenerationRequest(
        model=request.model.name,
        prompt=request.prompt,
        messages=tuple(message_from_proto(m) for m in request.messages),
        sampling=sampling_from_proto(request.sampling),
        request_id=request.request_id,
        tools=ToolUse(
            tools=tuple(tool_from_proto(i, t) for i, t in enumerate(request.tools)),
            choice=request.tool_choice or "auto",
            name=request.tool_choice_name,
        ),
        user=request.user,
        echo=request.echo,
        prompt_ids=tuple(request.prompt_token_ids),
    )


def message_from_proto(message: pb.ChatMessage) -> Message:
    """One chat message as text."""
    if not message.tool_calls:
        return Message(message.role, message.content)
    calls = render_calls([ToolCall(c.id, c.name, c.arguments_json) for c in message.tool_calls])
    return Message(message.role, f"{message.content}\n{calls}" if message.content else calls)


def tool_from_proto(position: int, tool: pb.Tool) -> ToolSpec:
    """A Tool message with its schema parsed."""
    try:
        parameters = json.loads(tool.parameters_json) if tool.parameters_json else None
    except ValueError as error:
        raise InvalidInput(
            f"tools[{position}] parameters are not JSON: {error}",
            details={"field": f"tools[{position}].function.parameters"},
        ) from None
    return ToolSpec(tool.name, tool.description, parameters)


def reply_of(chunk: Chunk) -> pb.GenerateResponse:
    """A chunk as a GenerateResponse message."""
    reply = pb.GenerateResponse(
        text=chunk.text,
        index=chunk.index,
        model_name=chunk.model,
        device=chunk.device,
        request_id=chunk.request_id,
        created=chunk.created,
        cached=chunk.cached,
        choice=chunk.choice,
        tool_calls=[pb.ToolCall(id=c.id, name=c.name, arguments_json=c.arguments) for c in chunk.tool_calls],
        logprobs=[
            pb.TokenLogprob(
                token=t.token,
                logprob=t.logprob or 0.0,
                unscored=t.logprob is None,
                bytes=t.bytes,
                top=[pb.TopLogprob(token=a.token, logprob=a.logprob, bytes=a.bytes) for a in t.top],
            )
            for t in chunk.logprobs
        ],
    )
    if chunk.finish_reason:
        reply.finish_reason = FINISH_REASONS.get(chunk.finish_reason, pb.FINISH_REASON_STOP)
        reply.usage.prompt_tokens = chunk.prompt_tokens
        reply.usage.completion_tokens = chunk.completion_tokens
        reply.usage.cached_tokens = chunk.cached_tokens
        if chunk.mean_logprob is not None:
            reply.mean_logprob = chunk.mean_logprob
    return reply


class GenerationServicer:
    """``Generate`` streamed chunk by chunk, stored generations, and the engines' statistics."""

    def __init__(self, pipeline: GenerationPipeline, stored: StoredGenerations | None = None) -> None:
        self.pipeline = pipeline
        self.vocabulary = Vocabulary(pipeline.service)
        self.stored = stored

    @property
    def service(self) -> GenerationService:
        """The engine side of the pipeline."""
        return self.pipeline.service

    async def Generate(
        self, request: pb.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.GenerateResponse]:
        """Streams a generation; a cancelled call cancels its sequences on the worker. A tenant with a
        token quota hears where it stands in the reply's initial metadata; the trailing metadata
        carries how long it waited for a batch slot (:data:`QUEUE_SECONDS_TRAILER`)."""
        admitted: list[Allowance] = []
        waited = 0.0
        request, recording = await self._prepared(request)
        canonical = request_from_proto(request)
        if request.truncate_history and canonical.messages:
            count = instruction_count(request)
            canonical = await fit_history(canonical, count, self.vocabulary, self.pipeline.job)
        generation = self.pipeline.generate(canonical, on_allowance=admitted.append)
        async with contextlib.aclosing(generation) as chunks:
            async for chunk in chunks:
                if admitted and (standing := admitted.pop().metadata()):
                    await context.send_initial_metadata(standing)
                if chunk.finish_reason and not chunk.cached:  # a replayed answer waited for nothing now
                    waited = max(waited, chunk.queue_seconds)
                reply = reply_of(chunk)
                if recording is not None and recording.observe(reply):
                    await recording.save()  # stored before the caller hears the end
                yield reply
        context.set_trailing_metadata(((QUEUE_SECONDS_TRAILER, f"{waited:.6f}"),))

    async def _prepared(self, request: pb.GenerateRequest) -> tuple[pb.GenerateRequest, Recording | None]:
        """The request with the earlier turns it continues in place, and what keeps its reply."""
        if not keeping_fields(request):
            return request, None
        return await self._stored().prepare(request)

    def _stored(self) -> StoredGenerations:
        if self.stored is None:
            raise NotImplementedYet("this inference service keeps no stored generations")
        return self.stored

    async def GetStoredGeneration(
        self, request: pb.GetStoredGenerationRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetStoredGenerationResponse:
        """The caller's stored generation."""
        return pb.GetStoredGenerationResponse(generation=await self._stored().get(request.id))

    async def DeleteStoredGeneration(
        self, request: pb.DeleteStoredGenerationRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteStoredGenerationResponse:
        """Deletes the caller's stored generation."""
        await self._stored().delete(request.id)
        return pb.DeleteStoredGenerationResponse(id=request.id)

    async def Embed(self, request: pb.EmbedRequest, context: grpc.aio.ServicerContext) -> pb.EmbedResponse:
        """Unit vectors of the inputs, from a language model's final hidden states."""
        inputs: list[str] | list[list[int]] = list(request.inputs) or [
            list(t.ids) for t in request.token_inputs
        ]
        embedded = await self.service.embed(request.model.name, inputs, request.dimensions)
        return pb.EmbedResponse(
            model_name=embedded.model,
            embeddings=[pb.Embedding(values=v) for v in embedded.vectors],
            usage=pb.Usage(prompt_tokens=embedded.prompt_tokens),
            device=embedded.device,
        )

    async def Tokenize(
        self, request: pb.TokenizeRequest, context: grpc.aio.ServicerContext
    ) -> pb.TokenizeResponse:
        """A text's or chat's token ids, from the model's own tokenizer on its worker."""
        messages = [message_from_proto(m) for m in request.messages]
        tokenized = await self.vocabulary.tokenize(
            request.model.name,
            request.prompt,
            messages,
            request.add_special_tokens,
            request.return_token_strs,
        )
        return pb.TokenizeResponse(
            model_name=tokenized.model,
            tokens=tokenized.tokens,
            max_model_len=tokenized.max_model_len,
            token_strs=tokenized.token_strs or [],
        )

    async def Detokenize(
        self, request: pb.DetokenizeRequest, context: grpc.aio.ServicerContext
    ) -> pb.DetokenizeResponse:
        """The text that token ids stand for."""
        return pb.DetokenizeResponse(
            prompt=await self.vocabulary.detokenize(request.model.name, request.tokens)
        )

    async def GetTokenizerInfo(
        self, request: pb.GetTokenizerInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTokenizerInfoResponse:
        """The model's special tokens, chat template, context and vocabulary size."""
        model, info = await self.vocabulary.info(request.model.name)
        texts = ("tokenizer_class", "eos_token", "bos_token", "pad_token", "chat_template")
        return pb.GetTokenizerInfoResponse(
            model_name=model,
            max_model_len=int(info["max_model_len"]),
            vocab_size=int(info["vocab_size"]),
            **{key: str(info.get(key) or "") for key in texts},
        )

    async def GetGenerationStats(
        self, request: pb.GetGenerationStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetGenerationStatsResponse:
        """Live sequences per language model, as the engines on the workers count them."""
        rows = await self.service.stats(request.model_name)
        return pb.GetGenerationStatsResponse(
            models=[
                pb.GenerationStats(
                    model_name=r["model"],
                    worker_id=r["worker_id"],
                    active_sequences=r["active"],
                    waiting_sequences=r["waiting"],
                    slots=r["slots"],
                    completed=r["completed"],
                    tokens_generated=r["tokens_generated"],
                    device=r["device"],
                    context_length=r["context_length"],
                    engine=r.get("engine", ""),
                    engine_reason=r.get("engine_reason", ""),
                    threads=r.get("threads", 0),
                )
                for r in rows
            ],
            open_streams=self.service.open_streams,
        )
