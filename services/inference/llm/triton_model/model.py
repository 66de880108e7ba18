"""Triton python-backend model serving one language model with continuous batching (decoupled).

Each request carries one JSON document in ``REQUEST``; every reply carries one JSON event in
``EVENT`` (see :mod:`services.inference.llm.protocol`). The last reply of a request is flagged
final. The engine's scheduler thread sends the replies, so ``execute`` returns at once and new
requests join the running batch without waiting for earlier ones (decoupled transaction policy).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    """The decoupled generation model."""

    def initialize(self, args: dict) -> None:
        """Loads the language model named in the config parameters and starts the scheduler."""
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        root = params.get("code_root", "")
        if root and root not in sys.path:
            sys.path.insert(0, root)
        from services.common.children import exit_when_orphaned
        from services.inference.llm.protocol import WorkerModel

        exit_when_orphaned()  # a killed tritonserver must not leave this stub generating on
        self.worker = WorkerModel.from_parameters(config["name"], params)
        # Measured facts for the pool (device really used, resident memory of this stub).
        here = Path(__file__).resolve().parent
        stats = self.worker.engine.stats()
        facts = {
            "pid": os.getpid(),
            "device": self.worker.engine.device,
            "engine": stats["engine"],
            "engine_reason": stats["engine_reason"],
            "rss_after": _rss_bytes(),
        }
        (here / f"runtime-{os.getpid()}.json").write_text(json.dumps(facts))

    def execute(self, requests: list) -> None:
        """Hands every request to the engine; replies flow through each request's sender."""
        for request in requests:
            sender = request.get_response_sender()
            raw = pb_utils.get_input_tensor_by_name(request, "REQUEST").as_numpy().reshape(-1)[0]

            def emit(event: dict, final: bool, sender=sender) -> None:
                data = np.array([json.dumps(event).encode()], dtype=np.object_)
                response = pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("EVENT", data)])
                flags = pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL if final else 0
                sender.send(response, flags=flags)

            self.worker.handle(raw, emit, sender.is_cancelled)
        return None

    def finalize(self) -> None:
        """Stops the scheduler."""
        self.worker.close()


def _rss_bytes() -> int:
    """Resident memory of this process, from /proc (0 where unavailable)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
