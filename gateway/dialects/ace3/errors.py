"""ACE3 error envelope. 000 shows no REST error body, so ACE3 paths share the OpenAI envelope
(``{"error": {...}}`` with ``code``, ``message``, ``reason``, ``details``), which 000's SDK reads."""

from __future__ import annotations

from gateway.dialects.envelope import ErrorSurface
from gateway.dialects.openai.errors import SCHEMA, render

SURFACE = ErrorSurface("ace3", ("/v1/models/",), render, SCHEMA)
