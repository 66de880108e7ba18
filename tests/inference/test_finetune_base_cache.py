"""A GGUF base converted for fine-tuning is kept, whole, and read back with the same weights and
tokens; only the most recently used conversions stay (``services/inference/finetune/base_cache.py``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from services.common.bundled import SMOLLM2_GGUF
from services.inference.finetune import base_cache
from services.inference.finetune.base_cache import file_sha256, load_base, prune


@pytest.mark.slow
def test_a_conversion_is_kept_and_read_back_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    source = SMOLLM2_GGUF.path
    assert source is not None, "the bundled SmolLM2 is installed by make install"
    cache = tmp_path / "bases"
    tokenizer, model = load_base(source, cache, entries=2)
    kept = cache / file_sha256(source)
    assert sorted(p.name for p in cache.iterdir()) == [kept.name]  # whole: no partial left beside it
    assert (kept / "model.safetensors").is_file() and (kept / "tokenizer.json").is_file()

    def converted_again(source: Path) -> None:
        raise AssertionError("the kept conversion was not used")

    monkeypatch.setattr(base_cache, "_from_gguf", converted_again)
    again_tokenizer, again = load_base(source, cache, entries=2)
    first, second = dict(model.named_parameters()), dict(again.named_parameters())
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert getattr(again.config, "quantization_config", None) is None
    turns = [
        {"role": "user", "content": "What is the capital of Italy?"},
        {"role": "assistant", "content": "Rome."},
    ]
    assert again_tokenizer.apply_chat_template(turns) == tokenizer.apply_chat_template(turns)
    assert again_tokenizer.pad_token_id == tokenizer.pad_token_id


def test_a_directory_base_is_read_as_it_is_and_nothing_is_kept(tmp_path: Path) -> None:
    cache = tmp_path / "bases"
    with pytest.raises(OSError):  # not a model directory: transformers says so, nothing is written
        load_base(tmp_path / "not-a-model", cache, entries=2)
    assert not cache.exists()


def test_only_the_most_recently_used_conversions_stay(tmp_path: Path) -> None:
    now = time.time()
    for age, name in enumerate(["newest", "middle", "oldest"]):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (now - age * 60, now - age * 60))
    (tmp_path / ".partial.123").mkdir()  # another run's conversion being written: never removed
    prune(tmp_path, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".partial.123", "middle", "newest"]
    prune(tmp_path / "missing", 2)  # no cache yet: nothing to do
