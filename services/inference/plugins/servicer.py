"""gRPC face of the plugins: the four plugin RPCs, and ``Generate`` run through the loaded stages.

A mixin of the inference servicer placed before the generation mixin, so its ``Generate`` wraps the
generation one: preprocessing rewrites the request on its way in, postprocessing rewrites each
chunk's text on its way out. Generation itself knows nothing about plugins.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import grpc

from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import inference_pb2_grpc as pb_grpc
from services.inference.plugins.base import Category, Message, TextRequest, settings_schema
from services.inference.plugins.manager import ConfigChange, PluginManager, PluginView

CATEGORY = {
    Category.PREPROCESSING: pb.PLUGIN_CATEGORY_PREPROCESSING,
    Category.POSTPROCESSING: pb.PLUGIN_CATEGORY_POSTPROCESSING,
}
STATUS = {
    "available": pb.PLUGIN_STATUS_AVAILABLE,
    "loaded": pb.PLUGIN_STATUS_LOADED,
    "failed": pb.PLUGIN_STATUS_FAILED,
}


def text_request_from_proto(request: pb.GenerateRequest) -> TextRequest:
    """The parts of a GenerateRequest plugins see."""
    s = request.sampling
    max_tokens: int | None = None
    if s.HasField("max_completion_tokens"):
        max_tokens = s.max_completion_tokens
    elif s.max_tokens:
        max_tokens = s.max_tokens
    return TextRequest(
        model=request.model.name,
        prompt=request.prompt,
        messages=tuple(Message(m.role, m.content) for m in request.messages),
        max_tokens=max_tokens,
        temperature=s.temperature if s.HasField("temperature") else None,
        top_p=s.top_p if s.HasField("top_p") else None,
        stop=tuple(s.stop),
    )


def apply_to_proto(request: pb.GenerateRequest, text: TextRequest) -> pb.GenerateRequest:
    """A copy of the request carrying what the plugins rewrote."""
    out = pb.GenerateRequest()
    out.CopyFrom(request)
    out.model.name = text.model
    out.prompt = text.prompt
    del out.messages[:]
    out.messages.extend(pb.ChatMessage(role=m.role, content=m.content) for m in text.messages)
    s = out.sampling
    if text.max_tokens != text_request_from_proto(request).max_tokens:
        s.max_tokens = 0
        if text.max_tokens is None:
            s.ClearField("max_completion_tokens")
        else:
            s.max_completion_tokens = text.max_tokens
    for name in ("temperature", "top_p"):
        value = getattr(text, name)
        if value is None:
            s.ClearField(name)
        else:
            setattr(s, name, value)
    del s.stop[:]
    s.stop.extend(text.stop)
    return out


def config_change(config: pb.PluginConfig) -> ConfigChange:
    """The fields a PluginConfig sets."""
    return ConfigChange(
        enabled=config.enabled if config.HasField("enabled") else None,
        priority=config.priority if config.HasField("priority") else None,
        settings=ConfigChange.parse_settings(config.settings_json)
        if config.HasField("settings_json")
        else None,
    )


def plugin_to_proto(view: PluginView) -> pb.Plugin:
    """A plugin and its state as a message."""
    found, loaded = view.found, view.loaded
    cls = found.plugin
    message = pb.Plugin(
        id=found.id,
        status=STATUS[view.status],
        source=found.source,
        status_reason=found.error,
    )
    if cls is not None:
        message.name = cls.name
        message.version = cls.version
        message.category = CATEGORY[cls.category]
        message.author = cls.author
        message.description = cls.description
        message.settings_schema_json = json.dumps(settings_schema(cls), sort_keys=True)
    else:
        message.name = found.id
    if loaded is not None:
        message.config.CopyFrom(
            pb.PluginConfig(
                enabled=loaded.enabled,
                priority=loaded.priority,
                settings_json=json.dumps(loaded.settings, sort_keys=True),
            )
        )
        message.load_seconds = loaded.load_seconds
        message.loaded_at = loaded.loaded_at
        message.applied = loaded.usage.applied
        message.failures = loaded.usage.failures
    return message


class PluginsMixin(pb_grpc.InferenceServiceServicer):
    """Plugin management and the plugin stages of Generate."""

    _plugin_manager: PluginManager | None = None

    @property
    def plugins(self) -> PluginManager:
        """The plugin manager, discovering plugins on first use."""
        if self._plugin_manager is None:
            self._plugin_manager = PluginManager()
        return self._plugin_manager

    async def Generate(
        self, request: pb.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.GenerateResponse]:
        """The generation with the loaded plugins applied (as they were when it started)."""
        pipeline = self.plugins.pipeline()
        if pipeline.pre:
            request = apply_to_proto(request, pipeline.preprocess(text_request_from_proto(request)))
        output = pipeline.output() if pipeline.post else None
        async with contextlib.aclosing(super().Generate(request, context)) as replies:  # type: ignore[attr-defined]
            async for reply in replies:
                if output is not None:
                    had_text = bool(reply.text)
                    text = output.feed(reply.text) if had_text else ""
                    if reply.finish_reason:
                        text += output.finish()
                    elif had_text and not text:
                        continue  # held back by a stage: sent with a later chunk
                    reply.text = text
                yield reply

    async def ListPlugins(
        self, request: pb.ListPluginsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPluginsResponse:
        """Every discovered plugin with its state."""
        return pb.ListPluginsResponse(plugins=[plugin_to_proto(v) for v in self.plugins.list()])

    async def LoadPlugin(
        self, request: pb.LoadPluginRequest, context: grpc.aio.ServicerContext
    ) -> pb.LoadPluginResponse:
        """Loads a plugin with its configuration."""
        view = self.plugins.load(request.plugin_id, config_change(request.config))
        return pb.LoadPluginResponse(plugin=plugin_to_proto(view))

    async def UnloadPlugin(
        self, request: pb.UnloadPluginRequest, context: grpc.aio.ServicerContext
    ) -> pb.UnloadPluginResponse:
        """Unloads a plugin."""
        self.plugins.unload(request.plugin_id)
        return pb.UnloadPluginResponse(plugin_id=request.plugin_id)

    async def ConfigurePlugin(
        self, request: pb.ConfigurePluginRequest, context: grpc.aio.ServicerContext
    ) -> pb.ConfigurePluginResponse:
        """Changes a loaded plugin's configuration."""
        view = self.plugins.configure(request.plugin_id, config_change(request.config))
        return pb.ConfigurePluginResponse(plugin=plugin_to_proto(view))
