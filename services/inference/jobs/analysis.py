"""003's ``document_analysis`` job: one generation per document, its instruction and output shape
set by ``analysis_type``, over the same text models and pipeline as every generation.

- ``sentiment``: ``{"sentiment": "positive" | "negative" | "neutral"}``, the choice constrained by
  a JSON schema (the engine's grammar), greedy;
- ``classification``: ``{"label": <one of labels>}``, likewise;
- ``keywords``: ``{"keywords": [up to 8 strings]}``;
- ``summary``: a few sentences of plain text.

Documents are given as text. A file name alone ("report.pdf") is refused: the mesh does not fetch
files by name, and a model shown only the name would analyse the name.
"""

from __future__ import annotations

import re
from typing import Any

from services.common.errors import InvalidInput
from services.inference.jobs.records import ItemSpec

ANALYSES = ("sentiment", "summary", "keywords", "classification")
MAX_DOCUMENT_CHARS = 20_000
_FILE_NAME = re.compile(r"^[\w.\-/]+\.(pdf|docx?|txt|md|html?|rtf|odt|csv|json|xlsx?)$", re.IGNORECASE)


def _schema(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "schema": {
            "type": "object",
            "properties": properties,
            "required": list(properties),
            "additionalProperties": False,
        },
    }


def _instruction(analysis: str, labels: list[str]) -> tuple[str, dict[str, Any] | None, int]:
    """The instruction, the response format and the token budget of an analysis."""
    if analysis == "sentiment":
        schema = _schema({"sentiment": {"enum": ["positive", "negative", "neutral"]}})
        return "What is the sentiment of this document: positive, negative or neutral?", schema, 16
    if analysis == "classification":
        schema = _schema({"label": {"enum": labels}})
        return f"Classify this document as one of: {', '.join(labels)}.", schema, 24
    if analysis == "keywords":
        schema = _schema(
            {"keywords": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 8}}
        )
        return "List the main keywords of this document.", schema, 96
    return "Summarize this document in two or three sentences.", None, 120


def analysis_items(documents: list[str], analysis_type: str, model: str, labels: list[str]) -> list[ItemSpec]:
    """One job item per document; InvalidInput naming the field at fault."""
    analysis = analysis_type or "summary"
    if analysis not in ANALYSES:
        raise InvalidInput(
            f"analysis_type {analysis_type!r} is not supported",
            details={"field": "input_data.analysis_type", "supported": list(ANALYSES)},
        )
    if analysis == "classification" and len(labels) < 2:
        raise InvalidInput("classification needs at least two labels", details={"field": "input_data.labels"})
    if not documents:
        raise InvalidInput("input_data.documents is empty", details={"field": "input_data.documents"})
    for index, text in enumerate(documents):
        field = f"input_data.documents[{index}]"
        if not text.strip():
            raise InvalidInput(f"{field} is empty", details={"field": field})
        if _FILE_NAME.match(text.strip()):
            raise InvalidInput(
                f"{field} is a file name ({text.strip()!r}), not the document's text",
                details={"field": field},
                suggestion='send each document\'s text (or {"name", "text"}); files are not fetched by name',
            )
        if len(text) > MAX_DOCUMENT_CHARS:
            raise InvalidInput(
                f"{field} has {len(text)} characters; at most {MAX_DOCUMENT_CHARS} are accepted",
                details={"field": field, "max": MAX_DOCUMENT_CHARS},
            )
    instruction, response_format, budget = _instruction(analysis, labels)
    sampling: dict[str, Any] = {"temperature": 0.0, "max_tokens": budget}
    if response_format is not None:
        sampling["response_format"] = response_format
    return [
        ItemSpec(model or "default", f"{instruction}\n\nDocument:\n{text.strip()}", dict(sampling))
        for text in documents
    ]
