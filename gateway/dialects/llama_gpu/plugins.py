"""Document 004 §5: ``GET /api/v1/plugins``, ``POST /api/v1/plugins/{id}/load``,
``DELETE /api/v1/plugins/{id}/unload``, ``PUT /api/v1/plugins/{id}/config``.

Plugins are stages of text generation owned by the inference service (``services/inference/
plugins``); this module only maps 004's bodies onto its plugin RPCs. Beyond 004's fields a plugin
shows where it comes from, its settings schema, its settings and how often it ran.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from gateway.deps import Clients
from gateway.dialects import dialect_router
from meshserve.v1 import inference_pb2 as ipb

router = dialect_router("llama", "llama-gpu plugins")

STATUS = {
    ipb.PLUGIN_STATUS_AVAILABLE: "available",
    ipb.PLUGIN_STATUS_LOADED: "loaded",
    ipb.PLUGIN_STATUS_FAILED: "failed",
}
CATEGORY = {
    ipb.PLUGIN_CATEGORY_PREPROCESSING: "preprocessing",
    ipb.PLUGIN_CATEGORY_POSTPROCESSING: "postprocessing",
}


class PluginConfigBody(BaseModel):
    """004's ``config``: omitted fields keep their values (defaults on load)."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool | None = Field(None, description="Whether the loaded plugin runs.")
    priority: StrictInt | None = Field(
        None, ge=-(2**31), le=2**31 - 1, description="Higher runs first among plugins of its category."
    )
    settings: dict[str, Any] | None = Field(
        None, description="The plugin's own settings (see its settings_schema); replace the current ones."
    )


class PluginBody(BaseModel):
    """004's load and config request."""

    config: PluginConfigBody = Field(default_factory=PluginConfigBody)


def config_proto(body: PluginConfigBody) -> ipb.PluginConfig:
    """004's config as the canonical message (unset stays unset)."""
    config = ipb.PluginConfig()
    if body.enabled is not None:
        config.enabled = body.enabled
    if body.priority is not None:
        config.priority = body.priority
    if body.settings is not None:
        config.settings_json = json.dumps(body.settings)
    return config


def config_json(config: ipb.PluginConfig) -> dict[str, Any]:
    """A plugin's configuration as 004 writes it."""
    return {
        "enabled": config.enabled,
        "priority": config.priority,
        "settings": json.loads(config.settings_json or "{}"),
    }


def plugin_json(plugin: ipb.Plugin) -> dict[str, Any]:
    """A 004 plugin object."""
    loaded = plugin.status == ipb.PLUGIN_STATUS_LOADED
    body: dict[str, Any] = {
        "id": plugin.id,
        "name": plugin.name,
        "version": plugin.version,
        "status": STATUS.get(plugin.status, "unknown"),
        "category": CATEGORY.get(plugin.category),
        "author": plugin.author,
        "description": plugin.description,
        "source": plugin.source,
        "settings_schema": json.loads(plugin.settings_schema_json) if plugin.settings_schema_json else None,
    }
    if plugin.status_reason:
        body["status_reason"] = plugin.status_reason
    if loaded:
        body["config"] = config_json(plugin.config)
        body["load_time"] = round(plugin.load_seconds, 6)
        body["loaded_at"] = datetime.fromtimestamp(plugin.loaded_at, UTC).isoformat().replace("+00:00", "Z")
        body["requests_processed"] = plugin.applied
        body["failures"] = plugin.failures
    return body


@router.get("/api/v1/plugins", summary="List plugins (document 004)")
async def list_plugins(clients: Clients) -> dict[str, Any]:
    """Every plugin the inference service discovered, with whether it is loaded."""
    reply = await clients.call(clients.inference.ListPlugins, ipb.ListPluginsRequest(), idempotent=True)
    plugins = [plugin_json(p) for p in reply.plugins]
    return {
        "success": True,
        "plugins": plugins,
        "total_plugins": len(plugins),
        "loaded_plugins": sum(1 for p in plugins if p["status"] == "loaded"),
    }


@router.post("/api/v1/plugins/{plugin_id}/load", summary="Load a plugin (document 004)")
async def load_plugin(plugin_id: str, clients: Clients, body: PluginBody | None = None) -> dict[str, Any]:
    """Loads a plugin: from then on it runs on every text generation."""
    body = body or PluginBody()
    reply = await clients.call(
        clients.inference.LoadPlugin,
        ipb.LoadPluginRequest(plugin_id=plugin_id, config=config_proto(body.config)),
    )
    plugin = plugin_json(reply.plugin)
    return {"success": True, "message": "Plugin loaded successfully", "plugin": plugin}


@router.delete("/api/v1/plugins/{plugin_id}/unload", summary="Unload a plugin (document 004)")
async def unload_plugin(plugin_id: str, clients: Clients) -> dict[str, Any]:
    """Unloads a plugin; generations that already started keep it to their end."""
    reply = await clients.call(clients.inference.UnloadPlugin, ipb.UnloadPluginRequest(plugin_id=plugin_id))
    return {"success": True, "message": "Plugin unloaded successfully", "plugin_id": reply.plugin_id}


@router.put("/api/v1/plugins/{plugin_id}/config", summary="Update a plugin's configuration (document 004)")
async def configure_plugin(plugin_id: str, body: PluginBody, clients: Clients) -> dict[str, Any]:
    """Changes a loaded plugin's configuration; the next generation uses it."""
    reply = await clients.call(
        clients.inference.ConfigurePlugin,
        ipb.ConfigurePluginRequest(plugin_id=plugin_id, config=config_proto(body.config)),
    )
    return {
        "success": True,
        "message": "Plugin configuration updated",
        "plugin_id": reply.plugin.id,
        "config": config_json(reply.plugin.config),
    }
