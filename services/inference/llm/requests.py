"""Generation requests in canonical terms: what every entry point builds, and its validation.

:class:`GenerationRequest` is the transport-free request that the gRPC face, job items, prefetches
and benchmarks all build (sampling values a client left unset stay ``None``, so plugins and the
service defaults can tell). :func:`build_job` validates it into a :class:`GenerationJob`, the form
the workers are sent, before any worker sees it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from services.common.errors import InvalidInput
from services.inference.llm.limits import ROLES
from services.inference.llm.sampling import SamplingParams
from services.inference.llm.tools import ToolUse
from services.inference.plugins.base import Message, TextRequest

#: Choices one request may ask for (OpenAI's ``n``).
MAX_CHOICES = 8


@dataclass(frozen=True)
class SamplingRequest:
    """Sampling as the client asked for it; ``None`` is "not said" (the service default applies)."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int = 0
    stop: tuple[str, ...] = ()
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    seed: int | None = None
    #: (token id, bias) pairs.
    logit_bias: tuple[tuple[int, float], ...] = ()
    n: int = 1
    #: Candidates to generate, of which the ``n`` most likely are returned (OpenAI's ``best_of``);
    #: 0 means ``n``.
    best_of: int = 0
    logprobs: bool = False
    top_logprobs: int = 0
    #: ``{"type": "json_object"}`` or ``{"type": "json_schema", "schema": {...}}``; None is free text.
    response_format: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy (what a job stores)."""
        data = asdict(self)
        data["stop"] = list(self.stop)
        data["logit_bias"] = {str(token): bias for token, bias in self.logit_bias}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SamplingRequest:
        """Inverse of :meth:`to_json`; keys it does not know are ignored (older stored jobs)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["stop"] = tuple(known.get("stop") or ())
        known["logit_bias"] = tuple(
            sorted((int(t), float(b)) for t, b in dict(known.get("logit_bias") or {}).items())
        )
        return cls(**known)

    @property
    def deterministic(self) -> bool:
        """Greedy or seeded: the output is a function of the request."""
        return self.temperature == 0 or self.seed is not None


@dataclass(frozen=True)
class GenerationRequest:
    """One generation as any entry point asks for it: a prompt or chat messages, and sampling."""

    model: str
    prompt: str = ""
    messages: tuple[Message, ...] = ()
    sampling: SamplingRequest = SamplingRequest()
    request_id: str = ""
    #: Functions the model may call, and how it must use them.
    tools: ToolUse = field(default_factory=ToolUse)
    #: The end user it is made for (OpenAI's ``user``): keeps an experiment's caller on one arm.
    user: str = ""
    #: Each choice's text starts with the prompt (OpenAI completions' ``echo``).
    echo: bool = False
    #: The prompt as the model's token ids (OpenAI completions' integer prompt), evaluated as given.
    #: ``prompt`` then holds their text once the pipeline needs it (plugins, echo); a plugin that
    #: rewrites that text makes the rewritten text the prompt.
    prompt_ids: tuple[int, ...] = ()

    def text(self) -> TextRequest:
        """The parts plugins see."""
        s = self.sampling
        return TextRequest(
            model=self.model,
            prompt=self.prompt,
            messages=self.messages,
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            top_p=s.top_p,
            stop=s.stop,
        )

    def with_text(self, text: TextRequest) -> GenerationRequest:
        """This request carrying what the plugins rewrote."""
        sampling = replace(
            self.sampling,
            max_tokens=text.max_tokens,
            temperature=text.temperature,
            top_p=text.top_p,
            stop=tuple(text.stop),
        )
        prompt_ids = self.prompt_ids if text.prompt == self.prompt else ()
        return replace(
            self,
            model=text.model,
            prompt=text.prompt,
            messages=tuple(text.messages),
            sampling=sampling,
            prompt_ids=prompt_ids,
        )


@dataclass(frozen=True)
class GenerationJob:
    """A validated generation request: ``n`` sequences of the same prompt and parameters."""

    model: str
    prompt: str
    messages: list[dict[str, str]]
    params: SamplingParams
    max_tokens_explicit: bool
    n: int = 1
    request_id: str = field(default_factory=lambda: f"gen-{uuid.uuid4().hex[:16]}")
    #: Of the ``n`` sequences, return only the ``keep`` most likely (``best_of``); 0 returns all.
    keep: int = 0
    #: Each choice's text starts with the prompt.
    echo: bool = False
    #: The prompt as token ids, sent to the worker in place of the text.
    prompt_ids: tuple[int, ...] = ()
    tools: ToolUse = field(default_factory=ToolUse)
    #: Queue priority of the caller's plan, captured when the job is built (the tenant is known
    #: only in the call's context), and the head start per level: the worker admits by rank
    #: (:mod:`services.inference.priority`).
    priority: int = 0
    aging_seconds: float = 0.0

    def body(self, choice: int = 0) -> dict[str, Any]:
        """The worker protocol request of one choice (services.inference.llm.protocol). A seeded
        request's choices take consecutive seeds: the same request gives the same choices, and they
        differ from each other."""
        params = self.params
        if choice and params.seed is not None:
            params = replace(params, seed=params.seed + choice)
        body = {
            "op": "generate",
            "id": self.request_id if self.n == 1 else f"{self.request_id}-{choice}",
            "prompt": self.prompt,
            "messages": self.messages,
            "sampling": params.to_dict(),
            "max_tokens_explicit": self.max_tokens_explicit,
            "priority": self.priority,
            "aging_seconds": self.aging_seconds,
        }
        if self.prompt_ids:
            body["prompt_ids"] = list(self.prompt_ids)
        return body

    def key(self) -> bytes:
        """What determines the output, as bytes (the response cache's key, with the model's revision;
        who asks, and so the queue priority, is not part of it)."""
        body = self.body()
        for unrelated in ("id", "priority", "aging_seconds"):
            del body[unrelated]
        return json.dumps({**body, "n": self.n}, sort_keys=True).encode()


def build_job(
    request: GenerationRequest,
    *,
    default_max_tokens: int,
    max_prompt_chars: int,
    priority: int = 0,
    aging_seconds: float = 0.0,
) -> GenerationJob:
    """Checks every canonical range; raises InvalidInput naming the field at fault. ``priority`` and
    ``aging_seconds`` place the job's sequences in the worker's queue."""
    if not request.messages and not request.prompt and not request.prompt_ids:
        raise InvalidInput(
            "the request has neither messages nor a prompt",
            details={"field": "messages"},
            suggestion="send at least one message (or a non-empty prompt)",
        )
    if request.prompt_ids and request.messages:
        raise InvalidInput("a prompt of token ids goes without chat messages", details={"field": "messages"})
    tools = request.tools
    tools.check()
    if tools.active and not request.messages:
        raise InvalidInput("tools need chat messages, not a raw prompt", details={"field": "tools"})
    response_format = request.sampling.response_format
    if tools.response_format() is not None:
        if response_format is not None and response_format.get("type", "text") != "text":
            raise InvalidInput(
                "a required tool call already constrains the output; leave response_format out",
                details={"field": "response_format"},
            )
        response_format = tools.response_format()
    chat = []
    for position, message in enumerate(tools.messages(request.messages)):
        if message.role not in ROLES:
            raise InvalidInput(
                f"messages[{position}].role {message.role!r} is not one of {', '.join(ROLES)}",
                details={
                    "field": f"messages[{position}].role",
                    "provided": message.role,
                    "allowed": list(ROLES),
                },
            )
        chat.append({"role": message.role, "content": message.content})
    length = sum(len(c["content"]) for c in chat) if chat else len(request.prompt)
    unit = "characters"
    if request.prompt_ids:  # a token stands for a character or more: the same bound holds
        length, unit = len(request.prompt_ids), "tokens"
    if length > max_prompt_chars:
        raise InvalidInput(
            f"input text is {length} {unit}; at most {max_prompt_chars} are accepted",
            details={
                "field": "messages" if chat else "prompt",
                "max_length": max_prompt_chars,
                "provided_length": length,
            },
            suggestion="shorten the input",
        )
    s = request.sampling
    if not 1 <= s.n <= MAX_CHOICES:
        raise InvalidInput(
            f"n must be between 1 and {MAX_CHOICES}, got {s.n}",
            details={"field": "n", "min": 1, "max": MAX_CHOICES, "provided": s.n},
        )
    best_of = s.best_of or s.n
    if not s.n <= best_of <= MAX_CHOICES:
        raise InvalidInput(
            f"best_of must be between n ({s.n}) and {MAX_CHOICES}, got {s.best_of}",
            details={"field": "best_of", "min": s.n, "max": MAX_CHOICES, "provided": s.best_of},
        )
    _check_echo(request, bool(chat))
    explicit = s.max_tokens is not None
    params = SamplingParams(
        max_tokens=int(s.max_tokens) if s.max_tokens is not None else default_max_tokens,
        temperature=1.0 if s.temperature is None else float(s.temperature),
        top_p=1.0 if s.top_p is None else float(s.top_p),
        top_k=int(s.top_k or 0),
        stop=tuple(s.stop),
        frequency_penalty=float(s.frequency_penalty or 0.0),
        presence_penalty=float(s.presence_penalty or 0.0),
        logit_bias=tuple(sorted(s.logit_bias)),
        seed=s.seed,
        logprobs=s.logprobs,
        top_logprobs=s.top_logprobs,
        prompt_logprobs=request.echo and s.logprobs,
        response_format=response_format,
    )
    params.validate()
    return GenerationJob(
        model=request.model,
        prompt=request.prompt,
        messages=chat,
        params=params,
        max_tokens_explicit=explicit,
        n=best_of,
        keep=s.n if best_of > s.n else 0,
        echo=request.echo,
        prompt_ids=request.prompt_ids,
        tools=tools,
        priority=priority,
        aging_seconds=aging_seconds,
        **({"request_id": request.request_id} if request.request_id else {}),
    )


def _check_echo(request: GenerationRequest, chat: bool) -> None:
    """``echo`` repeats a raw prompt."""
    if request.echo and chat:
        raise InvalidInput(
            "echo repeats a prompt (completions), not chat messages", details={"field": "echo"}
        )
