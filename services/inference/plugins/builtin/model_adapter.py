"""``model_adapter``: adapts requests to a deployment's model: a system prompt, sampling defaults
for what clients leave unset, and a cap on generated tokens."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.inference.plugins.base import Category, Message, Plugin, TextRequest


class AdapterSettings(BaseModel):
    """How requests are adapted."""

    model_config = ConfigDict(extra="forbid")

    system_prompt: str = Field(
        "",
        max_length=16_384,
        description="Put before every request: a system message for chats (joined before an existing"
        " one), a paragraph before a raw prompt.",
    )
    default_temperature: float | None = Field(
        None, ge=0.0, le=2.0, description="Temperature when the client sets none."
    )
    default_top_p: float | None = Field(None, gt=0.0, le=1.0, description="top_p when the client sets none.")
    default_max_tokens: int | None = Field(None, ge=1, description="max_tokens when the client sets none.")
    max_tokens_cap: int | None = Field(None, ge=1, description="Upper bound on max_tokens, whoever set it.")


class ModelAdapter(Plugin[AdapterSettings]):
    """Preprocessing: system prompt, sampling defaults, token cap."""

    id = "model_adapter"
    name = "Model Adapter"
    version = "1.0.0"
    category = Category.PREPROCESSING
    author = "meshserve"
    description = (
        "Adapts requests to the model: prefixes a system prompt, fills sampling defaults the client"
        " left unset and caps max_tokens."
    )
    Settings = AdapterSettings

    def preprocess(self, request: TextRequest) -> TextRequest:
        """The adapted request."""
        a = self.settings
        changes: dict[str, object] = {}
        if a.system_prompt:
            if request.is_chat:
                messages = list(request.messages)
                if messages[0].role == "system":
                    messages[0] = Message("system", f"{a.system_prompt}\n\n{messages[0].content}")
                else:
                    messages.insert(0, Message("system", a.system_prompt))
                changes["messages"] = tuple(messages)
            else:
                changes["prompt"] = f"{a.system_prompt}\n\n{request.prompt}"
        if request.temperature is None and a.default_temperature is not None:
            changes["temperature"] = a.default_temperature
        if request.top_p is None and a.default_top_p is not None:
            changes["top_p"] = a.default_top_p
        max_tokens = request.max_tokens
        if max_tokens is None and a.default_max_tokens is not None:
            max_tokens = a.default_max_tokens
        if a.max_tokens_cap is not None:
            # The cap also bounds a request that set nothing (the service default may be larger).
            max_tokens = min(max_tokens if max_tokens is not None else a.max_tokens_cap, a.max_tokens_cap)
        if max_tokens != request.max_tokens:
            changes["max_tokens"] = max_tokens
        return request.with_(**changes) if changes else request
