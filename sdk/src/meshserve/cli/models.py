"""``meshserve models list|upload|load|unload``: the model registry and the workers' placement.

list and load/unload use document 004's ``/api/v1/models`` (it reports whether each model is
loaded and its measured memory); upload uses 000's multipart ``POST /v1/models`` for files and
001's ``POST /models/download`` for URLs and ``huggingface:`` ids."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from meshserve.cli import output, progress
from meshserve.cli.parser import leaf
from meshserve.client import Client

COLUMNS = [
    ("name", "NAME"),
    ("version", "VERSION"),
    ("format", "FORMAT"),
    ("type", "TYPE"),
    ("status", "STATUS"),
    ("loaded", "LOADED"),
    ("size", "SIZE"),
    ("memory_usage", "MEMORY"),
]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``models`` and its four commands."""
    group = subparsers.add_parser("models", help="list, upload, load and unload models")
    commands = group.add_subparsers(dest="models_command", metavar="COMMAND", required=True)

    parser = leaf(commands, "list", "every registered model", "Every registered model and where it is.")
    parser.set_defaults(handler=list_models)

    parser = leaf(
        commands,
        "upload",
        "register a model file or import a URL",
        "Uploads an ONNX file or TorchScript archive (with a progress bar), or imports a URL or "
        "huggingface:<org/name> through the registry. The registry validates it before storing it.",
    )
    parser.add_argument("source", help="a .onnx/.pt file, an http(s) URL or huggingface:<org/name>")
    parser.add_argument("--name", help="name to register it under (default: the file's stem)")
    parser.add_argument(
        "--format", choices=["onnx", "torchscript", "pytorch"], help="default: from the suffix"
    )
    parser.add_argument(
        "--input-shape", metavar="DIMS", help="TorchScript only: input shape, e.g. --input-shape=-1,4"
    )
    parser.add_argument("--input-dtype", metavar="TYPE", help="TorchScript only: input datatype (FP32)")
    parser.add_argument("--revision", help="hub revision (huggingface: imports)")
    parser.set_defaults(handler=upload)

    parser = leaf(commands, "load", "place a model on workers", "Loads a registered model onto workers.")
    parser.add_argument("name", help="the registered model's name")
    parser.add_argument("--backend", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--replicas", type=int, default=1, help="workers to place it on (default 1)")
    parser.set_defaults(handler=load)

    parser = leaf(commands, "unload", "free a model's workers", "Unloads a model from every worker.")
    parser.add_argument("name", help="the model's name")
    parser.set_defaults(handler=unload)


def list_models(client: Client, args: argparse.Namespace) -> int:
    """Prints the registry's models with their load state."""
    models = client.list_models()
    if args.json:
        output.emit_json(models)
        return 0
    rows = [{**m, "loaded": "yes" if m.get("loaded") else "no"} for m in models]
    print(output.table(rows, COLUMNS) if rows else "no models registered")
    return 0


def _is_remote(source: str) -> bool:
    return source.startswith(("http://", "https://", "huggingface:"))


def upload(client: Client, args: argparse.Namespace) -> int:
    """Uploads a file with a progress bar, or has the registry import a URL."""
    fields: dict[str, Any] = {
        k: v for k, v in (("input_shape", args.input_shape), ("input_dtype", args.input_dtype)) if v
    }
    if _is_remote(args.source):
        print(f"importing {args.source} (the registry downloads and validates it)…", file=sys.stderr)
        model = client.load_model(args.source, name=args.name, revision=args.revision, **fields)
    else:
        path = Path(args.source)
        if not path.is_file():
            raise output.UsageError(f"{path}: no such file (give a .onnx or .pt file, or a URL)")
        bar = progress.ProgressBar(f"uploading {path.name}", enabled=progress.enabled(args.progress))
        try:
            model = client.upload_model(path, name=args.name, format=args.format, progress=bar, **fields)
        finally:
            bar.finish()
    if args.json:
        output.emit_json(dict(model))
        return 0
    size = progress.human_bytes(int(model.get("size_bytes") or 0))
    digest = str(model.get("sha256") or "")[:12]
    print(
        f"uploaded {model.name} version {model.get('version')} ({model.get('format')}, {size}, sha256 {digest})"
    )
    return 0


def load(client: Client, args: argparse.Namespace) -> int:
    """Places a model on workers and reports where and what it cost."""
    if args.replicas < 1:
        raise output.UsageError("--replicas must be at least 1")
    state = client.deploy_model(args.name, backend=args.backend, replicas=args.replicas)
    if args.json:
        output.emit_json(state)
        return 0
    workers = len(state.get("workers") or []) or args.replicas
    memory = state.get("memory_usage") or "?"
    seconds = float(state.get("load_time") or 0)
    plural = "s" if workers != 1 else ""
    print(
        f"loaded {state['id']} on {workers} worker{plural} ({state.get('backend')}, {memory}, {seconds:.2f}s)"
    )
    return 0


def unload(client: Client, args: argparse.Namespace) -> int:
    """Frees a model's workers."""
    reply = client.unload_model(args.name)
    if args.json:
        output.emit_json(reply)
        return 0
    print(f"unloaded {args.name} (freed {reply.get('freed_memory', '0B')})")
    return 0
