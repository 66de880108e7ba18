"""Model sources other than uploads: a URL (streamed, with a timeout and progress) and the Hugging
Face hub (``huggingface:org/name``) through the real ``huggingface_hub`` client, which fails fast
with MODEL_DOWNLOAD_FAILED when the hub cannot be reached. No transport imports."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.common.destinations import Destinations
from services.common.errors import InvalidInput, ModelDownloadFailed, ModelNotFound

CHUNK = 1 << 20
Progress = Callable[[int, int], None]


#: Where a URL import may go: anywhere but the cloud-metadata addresses, redirects included.
IMPORT_DESTINATIONS = Destinations.parse("")


async def _allowed(request: httpx.Request) -> None:
    """Refuses a request (the first, or a redirect's) to a host the import may not reach."""
    host = request.url.host
    if not await IMPORT_DESTINATIONS.allows(host):
        raise InvalidInput(
            f"imports from {host!r} are not allowed: it is a cloud-metadata address",
            details={"field": "source", "host": host},
        )


async def url_chunks(url: str, timeout: float, progress: Progress) -> AsyncIterator[bytes]:
    """The bytes at a URL, chunk by chunk, reporting (done, total) as they arrive."""
    hooks = {"request": [_allowed]}
    try:
        async with (
            httpx.AsyncClient(
                timeout=httpx.Timeout(timeout), follow_redirects=True, event_hooks=hooks
            ) as client,
            client.stream("GET", url) as reply,
        ):
            if reply.status_code != 200:
                raise ModelDownloadFailed(
                    f"GET {url} answered {reply.status_code}",
                    details={"source": url, "status": reply.status_code},
                )
            total = int(reply.headers.get("content-length", 0) or 0)
            done = 0
            async for chunk in reply.aiter_bytes(CHUNK):
                done += len(chunk)
                progress(done, total)
                yield chunk
    except httpx.HTTPError as error:
        raise ModelDownloadFailed(
            f"could not download {url}: {type(error).__name__}: {error}",
            details={"source": url},
            suggestion="check the URL and that this machine can reach it",
        ) from None


def unreachable(url: str, timeout: float) -> str | None:
    """Why ``url`` cannot be reached (one attempt), or None when it answers at all.

    huggingface_hub retries a failed connection five times with backoff (about 25 s) before it
    gives up; one probe first lets an offline machine learn that at once."""
    try:
        httpx.head(url, timeout=min(timeout, 10.0))
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"
    return None


def _hub_unreachable(repo_id: str, revision: str, reason: str) -> ModelDownloadFailed:
    return ModelDownloadFailed(
        f"the Hugging Face hub could not be reached for {repo_id!r}: {reason}",
        details={"source": f"huggingface:{repo_id}", "revision": revision or "main"},
        suggestion="check network access to huggingface.co, or upload the file with POST /v1/models",
    )


def _not_on_hub(repo_id: str, revision: str, missing: str) -> ModelNotFound:
    """The hub answered, and has no such ``repository`` or ``revision`` (a private or gated
    repository answers a caller without a token the same way): the caller's mistake, 404."""
    return ModelNotFound(
        f"the Hugging Face hub's {repo_id!r} has no revision {revision!r}"
        if missing == "revision"
        else f"the Hugging Face hub has no repository {repo_id!r} (or it is private or gated)",
        details={"source": f"huggingface:{repo_id}", "revision": revision or "main"},
        suggestion="check the name on huggingface.co; a private or gated repository needs HF_TOKEN set",
    )


def hub_file(repo_id: str, revision: str, timeout: float) -> tuple[Path, str]:
    """Downloads the ONNX (or TorchScript) file of a hub repository; (path, filename)."""
    import huggingface_hub
    from huggingface_hub import constants
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    reason = unreachable(constants.ENDPOINT, timeout)
    if reason is not None:
        raise _hub_unreachable(repo_id, revision, reason)
    try:
        files = huggingface_hub.HfApi().list_repo_files(repo_id, revision=revision or None)
    except RevisionNotFoundError:
        raise _not_on_hub(repo_id, revision, "revision") from None
    except RepositoryNotFoundError:
        raise _not_on_hub(repo_id, revision, "repository") from None
    except Exception as error:  # any other failure here means the hub did not answer for this repository
        raise _hub_unreachable(repo_id, revision, f"{type(error).__name__}: {str(error)[:200]}") from None
    candidates = [f for f in files if f.endswith(".onnx")] or [
        f for f in files if f.endswith((".pt", ".torchscript"))
    ]
    if not candidates:
        raise InvalidInput(
            f"{repo_id!r} has no .onnx or TorchScript file that meshserve can serve",
            details={"source": f"huggingface:{repo_id}"},
        )
    name = sorted(candidates, key=len)[0]
    try:
        path = huggingface_hub.hf_hub_download(repo_id, name, revision=revision or None, etag_timeout=timeout)
    except Exception as error:
        raise ModelDownloadFailed(
            f"downloading {name} from {repo_id!r} failed: {str(error)[:200]}",
            details={"source": f"huggingface:{repo_id}"},
        ) from None
    return Path(path), name


async def file_chunks(path: Path, progress: Progress) -> AsyncIterator[bytes]:
    """A local file chunk by chunk."""
    total = await asyncio.to_thread(os.path.getsize, path)
    done = 0
    with path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            done += len(chunk)
            progress(done, total)
            yield chunk


@dataclass(frozen=True)
class ImportPlan:
    """Where an import's bytes come from, and what the stored model is called."""

    name: str
    chunks: AsyncIterator[bytes]
    origin: str
    filename: str


def url_import(source: str, name: str, timeout: float, progress: Progress) -> ImportPlan:
    """An ``http(s)://`` import; the name defaults to the file's stem."""
    path = source.split("?")[0]
    return ImportPlan(name or Path(path).stem, url_chunks(source, timeout, progress), "url", Path(path).name)


async def hub_import(source: str, name: str, revision: str, timeout: float, progress: Progress) -> ImportPlan:
    """A ``huggingface:org/name`` import: the model file resolved (downloaded) first."""
    repo_id = source.removeprefix("huggingface:")
    path, filename = await asyncio.to_thread(hub_file, repo_id, revision, timeout)
    return ImportPlan(name or repo_id.split("/")[-1], file_chunks(path, progress), "huggingface", filename)


def import_kind(source: str) -> str:
    """``url`` or ``huggingface``; INVALID_INPUT for any other source."""
    if source.startswith(("http://", "https://")):
        return "url"
    if source.startswith("huggingface:"):
        return "huggingface"
    raise InvalidInput(
        f"unsupported source {source!r}: use http(s)://… or huggingface:org/name",
        details={"field": "source"},
    )
