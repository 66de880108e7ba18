"""Generic Triton python-backend model of meshserve: runs an ONNX file with onnxruntime or a
TorchScript archive with torch, on CUDA when present and asked for, else on the CPU.

This file is copied into a Triton model repository as ``<model>/1/model.py`` and executed by
Triton's python backend stub, never imported by meshserve itself. Its config.pbtxt names the
artifact and the runtime in ``parameters``. With ``max_batch_size > 0`` Triton's dynamic batcher
hands :meth:`TritonPythonModel.execute` several requests at once: they are concatenated along the
batch axis, run in one call (the batching gain) and split back.

After loading it writes ``runtime-<pid>.json`` next to itself: the device it really runs on and
the resident memory of this stub process before and after loading, so meshserve reports
measured figures.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import triton_python_backend_utils as pb_utils


def _rss_bytes() -> int:
    """Resident memory of this process, from /proc."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class TritonPythonModel:
    """One meshserve tensor model inside Triton."""

    def initialize(self, args: dict) -> None:
        """Loads the artifact named by the config onto the chosen device."""
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        here = Path(args["model_repository"]) / args["model_version"]
        artifact = here / params["artifact"]
        self.runtime = params["runtime"]
        self.batched = int(config.get("max_batch_size", 0)) > 0
        self.input_names = [i["name"] for i in config["input"]]
        self.outputs = [
            (o["name"], pb_utils.triton_string_to_numpy(o["data_type"])) for o in config["output"]
        ]
        want = params.get("device", "auto")
        rss_before = _rss_bytes()
        if self.runtime == "onnxruntime":
            self._load_onnx(artifact, want)
        elif self.runtime == "torchscript":
            self._load_torch(artifact, want)
        else:
            raise pb_utils.TritonModelException(f"unknown runtime {self.runtime!r}")
        facts = {
            "device": self.device,
            "rss_before": rss_before,
            "rss_after": _rss_bytes(),
            "pid": os.getpid(),
        }
        (here / f"runtime-{os.getpid()}.json").write_text(json.dumps(facts))

    def _load_onnx(self, artifact: Path, want: str) -> None:
        import onnxruntime as ort

        providers = ["CPUExecutionProvider"]
        if want in ("auto", "cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        # Workers share the machine: one intra-op thread per model instance keeps them from fighting.
        options.intra_op_num_threads = int(os.environ.get("MESHSERVE_MODEL_THREADS", "1"))
        self.session = ort.InferenceSession(str(artifact), options, providers=providers)
        used = self.session.get_providers()
        self.device = "cuda:0" if used and used[0] == "CUDAExecutionProvider" else "cpu"

    def _load_torch(self, artifact: Path, want: str) -> None:
        import torch

        torch.set_num_threads(int(os.environ.get("MESHSERVE_MODEL_THREADS", "1")))
        use_cuda = want in ("auto", "cuda") and torch.cuda.is_available()
        self.torch_device = torch.device("cuda:0" if use_cuda else "cpu")
        self.module = torch.jit.load(str(artifact), map_location=self.torch_device).eval()
        self.device = "cuda:0" if use_cuda else "cpu"

    def _run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        if self.runtime == "onnxruntime":
            return self.session.run([name for name, _ in self.outputs], feeds)
        import torch

        with torch.inference_mode():
            args = [torch.from_numpy(feeds[name]).to(self.torch_device) for name in self.input_names]
            result = self.module(*args)
        if isinstance(result, torch.Tensor):
            result = (result,)
        elif isinstance(result, dict):
            result = tuple(result[name] for name, _ in self.outputs)
        return [t.detach().cpu().numpy() for t in result]

    def execute(self, requests: list) -> list:
        """Runs every request of a batch in one model call when the model is batched."""
        inputs = [
            {name: pb_utils.get_input_tensor_by_name(r, name).as_numpy() for name in self.input_names}
            for r in requests
        ]
        if self.batched and len(requests) > 1:
            sizes = [len(next(iter(feed.values()))) for feed in inputs]
            merged = {name: np.concatenate([feed[name] for feed in inputs]) for name in self.input_names}
            try:
                results = self._run(merged)
            except Exception as error:  # report to every request of the batch
                return [self._failure(error) for _ in requests]
            bounds = np.cumsum([0, *sizes])
            return [
                self._response([out[bounds[i] : bounds[i + 1]] for out in results])
                for i in range(len(requests))
            ]
        responses = []
        for feed in inputs:
            try:
                responses.append(self._response(self._run(feed)))
            except Exception as error:
                responses.append(self._failure(error))
        return responses

    def _response(self, arrays: list[np.ndarray]):
        tensors = [
            pb_utils.Tensor(name, np.ascontiguousarray(array.astype(dtype, copy=False)))
            for (name, dtype), array in zip(self.outputs, arrays, strict=True)
        ]
        return pb_utils.InferenceResponse(output_tensors=tensors)

    def _failure(self, error: Exception):
        return pb_utils.InferenceResponse(
            output_tensors=[], error=pb_utils.TritonError(f"model failed: {error}")
        )
