"""Document 001's plain configuration variables (``DEVICE``, ``BATCH_SIZE``, ``LOG_LEVEL``) set the
mesh's own settings for every process ``make up`` starts, unless those are given themselves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.inference.settings import InferenceSettings
from services.launcher.supervisor import plain_variables


def test_plain_variables_set_the_mesh_settings() -> None:
    derived = plain_variables({"DEVICE": "CPU", "BATCH_SIZE": "8", "LOG_LEVEL": "debug"})
    assert derived["MESHSERVE_INFERENCE_DEFAULT_DEVICE"] == derived["MESHSERVE_INFERENCE_LLM_DEVICE"] == "cpu"
    assert derived["MESHSERVE_INFERENCE_MAX_BATCH_SIZE"] == "8"
    assert derived["MESHSERVE_GATEWAY_LOG_LEVEL"] == derived["MESHSERVE_INFERENCE_LOG_LEVEL"] == "DEBUG"
    settings = InferenceSettings(_env_file=None, **{})  # the defaults
    assert settings.default_device == "auto" and settings.max_batch_size == 32


def test_the_mesh_setting_wins_over_the_plain_one() -> None:
    derived = plain_variables({"BATCH_SIZE": "8", "MESHSERVE_INFERENCE_MAX_BATCH_SIZE": "4"})
    assert "MESHSERVE_INFERENCE_MAX_BATCH_SIZE" not in derived


@pytest.mark.parametrize(
    ("name", "value"), [("DEVICE", "tpu"), ("BATCH_SIZE", "many"), ("LOG_LEVEL", "LOUD")]
)
def test_a_bad_value_is_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        plain_variables({name: value})


def test_the_settings_take_what_the_launcher_derives(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in plain_variables({"DEVICE": "cpu", "BATCH_SIZE": "8"}).items():
        monkeypatch.setenv(key, value)
    settings = InferenceSettings()
    assert settings.default_device == "cpu" and settings.max_batch_size == 8


def test_make_up_refuses_a_bad_value_before_starting_anything(tmp_path: Path) -> None:
    env = {**os.environ, "DEVICE": "tpu", "MESHSERVE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "services.launcher", "up"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "DEVICE='tpu' is not valid" in done.stderr, done.stderr
