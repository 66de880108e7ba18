"""Plugin configuration through the inference store: what one replica loads, configures or unloads,
the other applies at its next sync (real PostgreSQL), and a restarted replica (SQLite) starts with
the plugins it had."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.errors import InvalidInput
from services.inference.jobs.pg_store import PostgresJobStore
from services.inference.jobs.store import JobStore
from services.inference.plugins.base import TextRequest
from services.inference.plugins.manager import ConfigChange, PluginManager
from tests.servers import fresh_database

BLOCK = {"blocked_patterns": ["forbidden words"]}


def refuses(manager: PluginManager, prompt: str) -> bool:
    try:
        manager.pipeline().preprocess(TextRequest(model="m", prompt=prompt))
    except InvalidInput:
        return True
    return False


def test_changes_through_one_replica_take_effect_on_the_other(postgres_url: str) -> None:
    url = fresh_database(postgres_url)
    store_a, store_b = PostgresJobStore(url), PostgresJobStore(url)
    try:
        a = PluginManager(extra_entry_points=[], store=store_a)
        b = PluginManager(extra_entry_points=[], store=store_b)
        a.load("prompt_guard", ConfigChange(settings=BLOCK))
        assert not refuses(b, "forbidden words")  # not yet synced
        b.sync()
        assert refuses(b, "say forbidden words") and b.view("prompt_guard").status == "loaded"
        a.configure("prompt_guard", ConfigChange(enabled=False))
        b.sync()
        assert b.loaded["prompt_guard"].enabled is False and not refuses(b, "forbidden words")
        b.configure("prompt_guard", ConfigChange(enabled=True, settings={"blocked_patterns": ["other"]}))
        a.sync()
        assert refuses(a, "other") and not refuses(a, "forbidden words")
        a.unload("prompt_guard")
        b.sync()
        assert "prompt_guard" not in b.loaded and not refuses(b, "other")
    finally:
        store_a.close()
        store_b.close()


def test_a_restarted_replica_starts_with_its_plugins(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    PluginManager(extra_entry_points=[], store=store).load("prompt_guard", ConfigChange(settings=BLOCK))
    store.close()
    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        restarted = PluginManager(extra_entry_points=[], store=store)
        restarted.sync()
        assert refuses(restarted, "forbidden words")
    finally:
        store.close()


def test_a_refused_configuration_is_not_recorded(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        manager = PluginManager(extra_entry_points=[], store=store)
        with pytest.raises(InvalidInput):
            manager.load("prompt_guard", ConfigChange(settings={"max_prompt_chars": "many"}))
        assert store.plugin_configs() == {}
    finally:
        store.close()
