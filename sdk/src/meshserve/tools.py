"""Document 000's utilities: Benchmark, Profiler, MemoryMonitor, preprocessors, ModelConverter and
the ``retry`` decorator. numpy, torch and transformers are imported only when a tool needs them."""

from __future__ import annotations

import cProfile
import functools
import html
import io
import logging
import pstats
import random
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from meshserve import config
from meshserve.errors import MeshserveError, ModelLoadError, UnsupportedError
from meshserve.objects import Obj

F = TypeVar("F", bound=Callable[..., Any])


def retry(
    max_attempts: int = 3,
    delay: float = 1.0,
    backoff: float = 2.0,
    exceptions: tuple[type[BaseException], ...] = (MeshserveError,),
    jitter: float = 0.0,
) -> Callable[[F], F]:
    """Retries the decorated function on ``exceptions``: waits delay, delay*backoff, … (+ up to ``jitter`` s)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wait = delay
            for attempt in range(1, max_attempts + 1):
                try:
                    return func(*args, **kwargs)
                except exceptions as exc:
                    if attempt == max_attempts:
                        raise
                    config.logger().info(
                        "%s failed (%s); attempt %d in %.2fs", func.__name__, exc, attempt + 1, wait
                    )
                    time.sleep(wait + random.uniform(0, jitter))
                    wait *= backoff
            raise AssertionError("unreachable")

        return wrapper  # type: ignore[return-value]

    return decorate


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    rank = q * (len(sorted_values) - 1)
    low = int(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


class Benchmark:
    """Measures a model's latency and throughput from this client (round trips through the gateway)."""

    def run(self, model: Any, input_data: Any, num_runs: int = 100, warmup_runs: int = 10) -> Obj:
        """Runs ``model.predict(input_data)`` warmup_runs + num_runs times; returns measured figures."""
        for _ in range(warmup_runs):
            model.predict(input_data)
        latencies = []
        started = time.perf_counter()
        for _ in range(num_runs):
            t0 = time.perf_counter()
            model.predict(input_data)
            latencies.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - started
        ordered = sorted(latencies)
        return Obj(
            num_runs=num_runs,
            avg_latency_ms=round(sum(ordered) / len(ordered), 3) if ordered else 0.0,
            p50_latency_ms=round(_percentile(ordered, 0.50), 3),
            p95_latency_ms=round(_percentile(ordered, 0.95), 3),
            p99_latency_ms=round(_percentile(ordered, 0.99), 3),
            min_latency_ms=round(ordered[0], 3) if ordered else 0.0,
            max_latency_ms=round(ordered[-1], 3) if ordered else 0.0,
            throughput_rps=round(num_runs / elapsed, 3) if elapsed else 0.0,
        )


class ProfileStats:
    """What a Profiler measured: wall time and the hottest functions (cProfile)."""

    def __init__(self, wall_seconds: float, stats: pstats.Stats) -> None:
        self.wall_seconds = wall_seconds
        self.stats = stats

    def summary(self, limit: int = 15) -> str:
        """Wall time and the functions with the most cumulative time."""
        buffer = io.StringIO()
        self.stats.stream = buffer  # type: ignore[attr-defined]
        self.stats.sort_stats("cumulative").print_stats(limit)
        return f"wall time: {self.wall_seconds * 1000:.1f} ms\n{buffer.getvalue()}"

    def save_report(self, path: str | Path) -> Path:
        """Writes the summary as an HTML page."""
        path = Path(path)
        path.write_text(
            "<!doctype html><title>meshserve profile</title>"
            f"<h1>Profile</h1><pre>{html.escape(self.summary(50))}</pre>"
        )
        return path


class Profiler:
    """cProfile around your code: ``start()``, run things, ``stop()`` -> ProfileStats."""

    def __init__(self) -> None:
        self._profile: cProfile.Profile | None = None
        self._started = 0.0

    def start(self) -> None:
        """Starts profiling this thread."""
        self._profile = cProfile.Profile()
        self._started = time.perf_counter()
        self._profile.enable()

    def stop(self) -> ProfileStats:
        """Stops and returns the statistics."""
        if self._profile is None:
            raise RuntimeError("Profiler.stop() before start()")
        self._profile.disable()
        wall = time.perf_counter() - self._started
        stats = pstats.Stats(self._profile)
        self._profile = None
        return ProfileStats(wall, stats)


class MemoryMonitor:
    """Python heap allocations of this process between start() and stop() (tracemalloc)."""

    def start(self) -> None:
        """Starts tracing allocations (resets the peak)."""
        if not tracemalloc.is_tracing():
            tracemalloc.start()
        tracemalloc.reset_peak()

    def stop(self) -> Obj:
        """peak_mb and current_mb traced since start, and the process's resident size (Linux)."""
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return Obj(peak_mb=round(peak / 1e6, 3), current_mb=round(current / 1e6, 3), rss_mb=_rss_mb())


def _rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) * 1024 / 1e6, 3)
    except OSError:
        pass
    return None


@dataclass(eq=False)
class ImagePreprocessor:
    """Resize (bilinear), scale to [0, 1] and normalise an HxWxC image (numpy array or PIL image)."""

    resize: tuple[int, int] | None = None
    normalize: bool = True
    mean: Sequence[float] = (0.485, 0.456, 0.406)
    std: Sequence[float] = (0.229, 0.224, 0.225)
    channels_first: bool = False

    def __call__(self, image: Any) -> Any:
        """A float32 array of shape (H, W, C), or (C, H, W) with channels_first."""
        import numpy as np

        array = np.asarray(image, dtype=np.float32)
        if array.ndim == 2:
            array = array[:, :, None]
        if self.resize is not None:
            array = _bilinear(array, *self.resize)
        if array.max(initial=0) > 1.0:
            array = array / 255.0
        if self.normalize:
            array = (array - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        if self.channels_first:
            array = array.transpose(2, 0, 1)
        return array.astype(np.float32)


def _bilinear(array: Any, height: int, width: int) -> Any:
    import numpy as np

    h, w = array.shape[:2]
    ys = np.linspace(0, h - 1, height)
    xs = np.linspace(0, w - 1, width)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = array[y0][:, x0] * (1 - wx) + array[y0][:, x1] * wx
    bottom = array[y1][:, x0] * (1 - wx) + array[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


def _hub_unreachable(name: str) -> str | None:
    """Why the Hugging Face hub cannot be reached for ``name`` (one attempt), or None when ``name``
    is a local directory, offline mode is on, or the hub answers. Offline, transformers would retry
    the connection for about a minute; knowing first lets it read only its cache."""
    if Path(name).exists():
        return None
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return None
    try:
        httpx.head(constants.ENDPOINT, timeout=10.0)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


class TextPreprocessor:
    """Tokenizes text with a Hugging Face tokenizer (transformers; a local directory or a cached hub id)."""

    def __init__(
        self, tokenizer: str, max_length: int = 512, padding: bool = True, truncation: bool = True
    ) -> None:
        try:
            from transformers import AutoTokenizer
        except ImportError as exc:
            raise UnsupportedError("TextPreprocessor needs transformers: pip install transformers") from exc
        offline = _hub_unreachable(tokenizer)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(tokenizer, local_files_only=bool(offline))
        except (OSError, ValueError) as exc:
            why = f" (the Hugging Face hub cannot be reached: {offline})" if offline else ""
            raise ModelLoadError(f"tokenizer {tokenizer!r} could not be loaded{why}: {exc}", None) from exc
        self.max_length = max_length
        self.padding = "max_length" if padding is True else padding
        self.truncation = truncation

    def __call__(self, text: str | list[str]) -> dict[str, list[Any]]:
        """input_ids and attention_mask as lists (ready for ``predict``)."""
        encoded = self.tokenizer(
            text, max_length=self.max_length, padding=self.padding, truncation=self.truncation
        )
        return {k: list(v) for k, v in encoded.items()}


class ModelConverter:
    """Local format conversion before upload (torch is imported only here)."""

    def pytorch_to_onnx(
        self,
        pytorch_model: Any,
        input_shape: Sequence[int],
        output_path: str | Path = "model.onnx",
        opset_version: int = 17,
        dynamic_batch: bool = True,
    ) -> Path:
        """Exports a torch.nn.Module to ONNX (input ``INPUT``, output ``OUTPUT``); returns the path."""
        try:
            import torch
        except ImportError as exc:
            raise UnsupportedError("pytorch_to_onnx needs torch installed locally") from exc
        output_path = Path(output_path)
        pytorch_model.eval()
        example = torch.randn(*input_shape)
        axes = {"INPUT": {0: "batch"}, "OUTPUT": {0: "batch"}} if dynamic_batch else None
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        torch.onnx.export(
            pytorch_model,
            (example,),
            str(output_path),
            input_names=["INPUT"],
            output_names=["OUTPUT"],
            dynamic_axes=axes,
            opset_version=opset_version,
            dynamo=False,
        )
        return output_path

    def tensorflow_to_onnx(self, tf_model: Any, output_path: str | Path = "model.onnx") -> Path:
        """Not offered: meshserve has no TensorFlow runtime; use tf2onnx yourself."""
        raise UnsupportedError(
            "TensorFlow conversion is not part of meshserve: run `python -m tf2onnx.convert` and upload the ONNX file"
        )
