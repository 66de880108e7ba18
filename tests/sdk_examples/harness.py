"""Runs the documents' examples (``examples/d<doc>_<n>.py``: verbatim copies, only the import line
changed) section by section in one namespace, capturing what each section prints or raises.

A section starts at a ``# comment`` line that follows a blank line; a failing section does not
stop the next one, so an example whose first call needs unavailable weights still shows the rest."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).parent / "examples"

#: The only change between a document's block and its copy: the import of the document's package
#: becomes the meshserve compat module (the table in ``meshserve.compat``), line by line.
IMPORTS = {
    "000": (
        ("import ace3", "import meshserve.compat.ace3 as ace3"),
        ("from ace3.utils import ", "from meshserve.compat.ace3.utils import "),
    ),
    "002": (("from inferneo import ", "from meshserve.compat.inferneo import "),),
    "003": (("from auterity import ", "from meshserve.compat.auterity import "),),
    "004": (("from llama_gpu_client import ", "from meshserve.compat.llama_gpu import "),),
}
#: Where the documents are: shared/seeds beside the repository (or inside it), or MESHSERVE_SPEC_DIR.
SPEC_DIRS = (
    Path(__file__).resolve().parents[2] / "shared" / "seeds",
    Path(__file__).resolve().parents[3] / "shared" / "seeds",
)


@dataclass
class Section:
    """What one section of an example did."""

    source: str
    stdout: str
    error: BaseException | None


def source(name: str) -> str:
    """The example's text."""
    return (EXAMPLES / f"{name}.py").read_text()


def sections(text: str) -> list[str]:
    """The example split at comment lines that open a paragraph."""
    parts: list[list[str]] = [[]]
    previous_blank = True
    for line in text.splitlines():
        if line.startswith("#") and previous_blank and any(p.strip() for p in parts[-1]):
            parts.append([])
        parts[-1].append(line)
        previous_blank = not line.strip()
    return ["\n".join(p) + "\n" for p in parts if any(x.strip() for x in p)]


def run(name: str, namespace: dict[str, Any], split: bool = True) -> list[Section]:
    """Executes the example (top-level ``await`` allowed) in ``namespace``; one Section per part."""
    text = source(name)
    results = []
    for part in sections(text) if split else [text]:
        out = io.StringIO()
        error: BaseException | None = None
        with contextlib.redirect_stdout(out):
            try:
                code = compile(part, f"{name}.py", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
                result = eval(code, namespace)
                if asyncio.iscoroutine(result):
                    asyncio.run(result)
            except Exception as exc:
                error = exc
        results.append(Section(part, out.getvalue(), error))
    return results


def run_ok(name: str, namespace: dict[str, Any]) -> str:
    """Runs the whole example, which must not raise; returns what it printed."""
    (section,) = run(name, namespace, split=False)
    if section.error is not None:
        raise section.error
    return section.stdout


def spec_dir() -> Path | None:
    """The folder holding the documents (``000_*.txt`` …), if this checkout has one."""
    override = os.environ.get("MESHSERVE_SPEC_DIR")
    candidates = (Path(override),) if override else SPEC_DIRS
    return next((d for d in candidates if any(d.glob("000_*.txt"))), None)


def document(doc: str) -> str:
    """The text of document ``doc`` ("000", "002", …)."""
    folder = spec_dir()
    assert folder is not None, "the documents (shared/seeds) are not here"
    (path,) = folder.glob(f"{doc}_*.txt")
    return path.read_text()


def blocks_of(text: str) -> list[str]:
    """The ```python blocks of a document's text, in order."""
    return re.findall(r"```python\n(.*?)```", text, re.S)


def translated(doc: str, line: str) -> str:
    """A document's line as its copy must read: only an import of the document's package changes."""
    body = line.rstrip("\n")
    for original, replacement in IMPORTS[doc]:
        if body == original or (original.endswith(" ") and body.startswith(original)):
            return replacement + line[len(original) :]
    return line


def expected_copy(doc: str, block: str) -> str:
    """What the copy of ``block`` must contain, byte for byte."""
    return "".join(translated(doc, line) for line in block.splitlines(keepends=True))


def copies_of(doc: str) -> list[str]:
    """The names of document ``doc``'s copies here (``d<doc>_NN``), in order."""
    return sorted(p.stem for p in EXAMPLES.glob(f"d{doc}_*.py"))
