"""Runs the documents' examples (``examples/d<doc>_<n>.py``: verbatim copies, only the import line
changed) section by section in one namespace, capturing what each section prints or raises.

A section starts at a ``# comment`` line that follows a blank line; a failing section does not
stop the next one, so an example whose first call needs unavailable weights still shows the rest."""

from __future__ import annotations
import __future__

import ast
import asyncio
import contextlib
import io
import os
import re
import time
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
    seconds: float = 0.0


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
        started = time.perf_counter()
        with contextlib.redirect_stdout(out):
            try:
                code = compile(part, f"{name}.py", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
                result = eval(code, namespace)
                if asyncio.iscoroutine(result):
                    asyncio.run(result)
            except Exception as exc:
                error = exc
        results.append(Section(part, out.getvalue(), error, time.perf_counter() - started))
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


@dataclass
class Signature:
    """A documented call signature (002's ``client.completions.create(model: str, ...) -> X``)."""

    callee: str
    parameters: dict[str, Any]  # name -> documented default (``REQUIRED`` when there is none)
    annotations: dict[str, str]
    returns: str


REQUIRED = object()


def documented_signature(name: str) -> Signature:
    """Reads an example that is a signature, not a statement, as a function definition."""
    callee, _, rest = source(name).strip().partition("(")
    (function,) = ast.parse(f"def documented({rest}:\n    pass\n").body
    assert isinstance(function, ast.FunctionDef)
    args = function.args
    positional = args.args
    defaults = [REQUIRED] * (len(positional) - len(args.defaults)) + [
        ast.literal_eval(d) for d in args.defaults
    ]
    parameters = {a.arg: d for a, d in zip(positional, defaults, strict=True)}
    annotations = {a.arg: ast.unparse(a.annotation) for a in positional if a.annotation}
    if args.kwarg is not None:
        parameters[f"**{args.kwarg.arg}"] = REQUIRED
    returns = ast.unparse(function.returns) if function.returns else ""
    return Signature(callee.strip(), parameters, annotations, returns)


def documented_classes(*names: str) -> dict[str, dict[str, str]]:
    """The classes the examples define (002's response objects): class name -> field -> annotation.

    They are run as written with postponed evaluation of annotations (PEP 563): the document
    neither imports ``typing`` nor defines ``Usage``/``LogProbs``, so they are read as text."""
    namespace: dict[str, Any] = {}
    for name in names:
        flags = __future__.annotations.compiler_flag
        exec(compile(source(name), f"{name}.py", "exec", flags=flags, dont_inherit=True), namespace)
    return {
        key: dict(value.__annotations__)
        for key, value in namespace.items()
        if isinstance(value, type) and value.__module__ == "builtins"
    }


_SCALARS: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}


def mismatches(value: Any, annotation: str, classes: dict[str, dict[str, str]], where: str = "") -> list[str]:
    """Where ``value`` does not have the documented type (``List[X]``, ``Optional[X]``,
    ``Dict[K, V]``, ``Union[...]``, scalars and the documented classes; undefined names such as
    ``Usage`` only need to be present)."""
    node = ast.parse(annotation, mode="eval").body
    return _mismatches(value, node, classes, where or "value")


def _mismatches(value: Any, node: ast.expr, classes: dict[str, dict[str, str]], where: str) -> list[str]:
    if isinstance(node, ast.Subscript):
        outer = ast.unparse(node.value)
        args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer == "Optional":
            return [] if value is None else _mismatches(value, args[0], classes, where)
        if outer == "Union":
            found = [_mismatches(value, a, classes, where) for a in args]
            return [] if any(not f for f in found) else found[0]
        if outer == "List":
            if not isinstance(value, list):
                return [f"{where}: {value!r} is not a list"]
            return [m for i, v in enumerate(value) for m in _mismatches(v, args[0], classes, f"{where}[{i}]")]
        if outer == "Dict":
            if not isinstance(value, dict):
                return [f"{where}: {value!r} is not a dict"]
            return [m for k, v in value.items() for m in _mismatches(v, args[1], classes, f"{where}[{k!r}]")]
    name = ast.unparse(node)
    if name in _SCALARS:
        ok = isinstance(value, _SCALARS[name]) and not (name != "bool" and isinstance(value, bool))
        return [] if ok else [f"{where}: {value!r} is not {name}"]
    if name in classes:
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not a {name}"]
        return [
            m
            for field, annotation in classes[name].items()
            for m in (
                _mismatches(
                    value[field], ast.parse(annotation, mode="eval").body, classes, f"{where}.{field}"
                )
                if field in value
                else [f"{where}.{field}: missing"]
            )
        ]
    return [] if value is not None else [f"{where}: missing ({name})"]
