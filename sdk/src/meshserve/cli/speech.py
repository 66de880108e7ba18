"""``meshserve speak`` (OpenAI ``POST /v1/audio/speech``, the audio streamed into a file with a
progress bar) and ``meshserve transcribe`` (``POST /v1/audio/transcriptions``, or with
``--translate`` ``POST /v1/audio/translations``, the file uploaded with a progress bar)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from meshserve import api
from meshserve.cli import output, progress
from meshserve.cli.parser import leaf
from meshserve.client import Client
from meshserve.upload import ProgressFile

AUDIO_FORMATS = ["wav", "mp3", "flac", "opus", "aac", "pcm"]
TRANSCRIPT_FORMATS = ["json", "text", "verbose_json", "srt", "vtt"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``speak`` and ``transcribe``."""
    parser = leaf(
        subparsers,
        "speak",
        "text to speech, into an audio file",
        "Synthesises speech and writes the audio as it arrives (a piece per sentence). "
        "TEXT - reads standard input; -o - writes the audio to standard output.",
    )
    parser.add_argument("text", nargs="+", help="what to say (words are joined)")
    parser.add_argument("-o", "--output", help="audio file to write (default: speech.FORMAT)")
    parser.add_argument("--voice", default="alloy", help="an OpenAI voice name or an installed voice")
    parser.add_argument("--format", choices=AUDIO_FORMATS, default="wav", help="audio format (default wav)")
    parser.add_argument("--speed", type=float, default=1.0, help="0.25 to 4 (default 1)")
    parser.set_defaults(handler=speak)

    parser = leaf(
        subparsers,
        "transcribe",
        "speech to text, from an audio file",
        "Uploads an audio file (any common container) and prints its transcript.",
    )
    parser.add_argument("file", help="the audio file")
    parser.add_argument("--language", help="ISO-639-1 language of the audio (default: detected)")
    parser.add_argument(
        "--translate",
        action="store_true",
        help="translate the speech into English text (Whisper's translate task)",
    )
    parser.add_argument(
        "--format",
        choices=TRANSCRIPT_FORMATS,
        default="json",
        help="transcript format (default json: the text is printed)",
    )
    parser.set_defaults(handler=transcribe)


def speak(client: Client, args: argparse.Namespace) -> int:
    """Streams the synthesised audio into the output file (written whole or not at all)."""
    text = " ".join(args.text)
    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise output.UsageError("nothing to say: the text is empty")
    call = api.speak(text, voice=args.voice, response_format=args.format, speed=args.speed)
    target = args.output or f"speech.{args.format}"
    to_stdout = target == "-"
    bar = progress.ProgressBar("receiving audio", enabled=progress.enabled(args.progress))
    pieces = client.transport.download(call.method, call.path, progress=bar, **call.kwargs)
    written = 0
    try:
        if to_stdout:
            for piece in pieces:
                sys.stdout.buffer.write(piece)
                written += len(piece)
            sys.stdout.buffer.flush()
            return 0
        path = Path(target)
        partial = path.with_name(path.name + ".part")
        try:
            with partial.open("wb") as handle:
                for piece in pieces:
                    handle.write(piece)
                    written += len(piece)
            if args.format == "wav":
                finish_wav(partial)
            os.replace(partial, path)
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
    finally:
        bar.finish()
    if args.json:
        output.emit_json({"path": str(path), "bytes": written, "format": args.format})
    else:
        print(f"wrote {path} ({progress.human_bytes(written)}, {args.format})")
    return 0


def finish_wav(path: Path) -> None:
    """Writes the real sizes into a streamed WAV's header.

    A WAV streamed before its length is known carries placeholder sizes (0xFFFFFFFF) in its RIFF
    and ``data`` headers; players cope, but many readers (Python's ``wave``, some editors) take them
    literally. Once the whole file is on disk the sizes are known, so the file is made exact."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return
        if int.from_bytes(header[4:8], "little") != size - 8:
            handle.seek(4)
            handle.write((size - 8).to_bytes(4, "little"))
        offset = 12
        while offset + 8 <= size:  # walk the chunks (fmt, LIST, ...) to the data chunk
            handle.seek(offset)
            chunk = handle.read(8)
            length = int.from_bytes(chunk[4:8], "little")
            if chunk[:4] == b"data":
                if length != size - offset - 8:
                    handle.seek(offset + 4)
                    handle.write((size - offset - 8).to_bytes(4, "little"))
                return
            offset += 8 + length + (length & 1)


def transcribe(client: Client, args: argparse.Namespace) -> int:
    """Uploads the audio with a progress bar and prints the transcript."""
    path = Path(args.file)
    if not path.is_file():
        raise output.UsageError(f"{path}: no such file")
    if args.translate and args.language:
        raise output.UsageError("--translate detects the language itself; leave --language out")
    bar = progress.ProgressBar(f"uploading {path.name}", enabled=progress.enabled(args.progress))
    try:
        with path.open("rb") as handle:
            body = ProgressFile(handle, path.stat().st_size, bar)
            if args.translate:
                reply = client.translate(body, filename=path.name, response_format=args.format)
            else:
                reply = client.transcribe(
                    body, filename=path.name, response_format=args.format, language=args.language
                )
    finally:
        bar.finish()
    if isinstance(reply, str):  # text, srt, vtt
        if args.json:
            output.emit_json({"text": reply})
        else:
            print(reply.rstrip("\n"))
    elif args.json:
        output.emit_json(reply)
    else:
        print(reply["text"].strip())
    return 0
