"""Document 004's client: ``from meshserve.compat.llama_gpu import LlamaGPUClient``.

``load_model(name)`` places a registered model on workers (004 ``POST /api/v1/models/{id}/load``);
results read by attribute (``result.generated_text``, ``token.text``, ``model.loaded``)."""

from __future__ import annotations

from typing import Any

from meshserve import api
from meshserve.compat import CompatClient
from meshserve.errors import APIError, ModelLoadError


class LlamaGPUClient(CompatClient):
    """004's ``LlamaGPUClient(base_url, api_key)`` over the ``/api/v1`` surface."""

    def load_model(  # type: ignore[override]  # 004's signature: backend and replicas, not the core client's
        self, model: Any, backend: str = "auto", replicas: int | None = None, **options: Any
    ) -> Any:
        """Loads a registered model onto workers; returns 004's model state (loaded, backend, memory…)."""
        try:
            return self._run(api.deploy_model(model, backend, replicas, **options))
        except APIError as error:
            raise ModelLoadError.from_api(error, f"{model}: ") from error


__all__ = ["LlamaGPUClient"]
