"""``meshserve predict`` (000's ``POST /v1/models/{id}/predict``) and ``meshserve chat`` (OpenAI
``POST /v1/chat/completions``, streamed token by token to the terminal)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from meshserve.cli import output
from meshserve.cli.parser import leaf
from meshserve.client import Client


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``predict`` and ``chat``."""
    parser = leaf(
        subparsers,
        "predict",
        "run a model on inputs",
        "Runs a model and prints its outputs as JSON. INPUTS is a JSON array (one row per sample), "
        "@FILE for a JSON file, or - for standard input.",
    )
    parser.add_argument("model", help="the model's name")
    parser.add_argument("inputs", help="JSON inputs, e.g. '[[1, 2, 3]]', or @inputs.json, or -")
    parser.set_defaults(handler=predict)

    parser = leaf(
        subparsers,
        "chat",
        "chat with a language model (streamed)",
        "Sends a message and streams the answer to the terminal as it is generated. Without a "
        "message, reads it from standard input, or (on a terminal) starts a conversation that keeps "
        "its history until Ctrl-D. With --json the whole completion is printed as JSON (not streamed).",
    )
    parser.add_argument("message", nargs="*", help="the user message (words are joined)")
    parser.add_argument("--model", default="default", help="model name (default: the bundled LLM)")
    parser.add_argument("--system", help="a system prompt")
    parser.add_argument("--max-tokens", type=int, help="most tokens to generate")
    parser.add_argument("--temperature", type=float, help="0 for greedy decoding")
    parser.add_argument("--no-stream", dest="stream", action="store_false", help="print the answer at once")
    parser.set_defaults(handler=chat)


def _read_inputs(text: str) -> Any:
    """The inputs argument as JSON: inline, from @FILE or from standard input."""
    where = "inputs"
    if text == "-":
        text, where = sys.stdin.read(), "standard input"
    elif text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise output.UsageError(f"{path}: no such file")
        text, where = path.read_text(), str(path)
    try:
        return json.loads(text)
    except ValueError as error:
        raise output.UsageError(f"{where}: not valid JSON ({error})") from None


def predict(client: Client, args: argparse.Namespace) -> int:
    """Prints the model's outputs (``--json``: with latency_ms and request_id)."""
    result = client.predict(args.model, _read_inputs(args.inputs))
    if args.json:
        output.emit_json(result)
    else:
        print(json.dumps(result["outputs"]))
    return 0


def _params(args: argparse.Namespace) -> dict[str, Any]:
    params = {"max_tokens": args.max_tokens, "temperature": args.temperature}
    return {k: v for k, v in params.items() if v is not None}


def _answer(client: Client, args: argparse.Namespace, messages: list[dict[str, str]]) -> str:
    """Sends the conversation; prints (streams) the reply and returns its text."""
    if args.json or not args.stream:
        reply = client.chat.completions.create(model=args.model, messages=messages, **_params(args))
        text = str(reply.choices[0].message.content or "")
        if args.json:
            output.emit_json(reply)
        else:
            print(text)
        return text
    pieces: list[str] = []
    stream = client.chat.completions.create(model=args.model, messages=messages, stream=True, **_params(args))
    try:
        for chunk in stream:
            for choice in chunk.get("choices", []):
                token = choice.delta.content
                if token:
                    pieces.append(token)
                    sys.stdout.write(token)
                    sys.stdout.flush()
    finally:  # end the line even when the stream fails midway, so an error starts on its own
        if pieces:
            sys.stdout.write("\n")
            sys.stdout.flush()
    return "".join(pieces)


def chat(client: Client, args: argparse.Namespace) -> int:
    """One message, or a conversation on a terminal."""
    history: list[dict[str, str]] = [{"role": "system", "content": args.system}] if args.system else []
    message = " ".join(args.message).strip()
    if not message and not sys.stdin.isatty():
        message = sys.stdin.read().strip()
    if message:
        _answer(client, args, [*history, {"role": "user", "content": message}])
        return 0
    if not sys.stdin.isatty():
        raise output.UsageError("no message: give one as an argument or on standard input")
    print("chatting with", args.model, "(Ctrl-D ends)", file=sys.stderr)
    while True:
        try:
            message = input("> ").strip()
        except EOFError:
            print(file=sys.stderr)
            return 0
        if message:
            history.append({"role": "user", "content": message})
            history.append({"role": "assistant", "content": _answer(client, args, history)})
