"""gRPC face of the plugins: list, load, unload and configure them.

Running them is the generation pipeline's job (:mod:`services.inference.llm.pipeline`):
preprocessing rewrites a request on its way in, postprocessing each chunk's text on its way out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import grpc

from meshserve.v1 import inference_pb2 as pb
from services.inference.plugins.base import Category, settings_schema
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


@dataclass(eq=False)
class PluginServicer:
    """The plugin RPCs over the plugin manager (the generation pipeline runs the loaded stages)."""

    plugins: PluginManager

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
