"""The README stays true: its configuration table is the one the code generates."""

from __future__ import annotations

from pathlib import Path

from services.common.settings_doc import markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def test_configuration_table_matches_the_code() -> None:
    text = README.read_text()
    start = text.index("<!-- config:start -->") + len("<!-- config:start -->")
    end = text.index("<!-- config:end -->")
    assert text[start:end].strip() == markdown().strip(), (
        "README configuration table is stale: run `make docs`"
    )


def test_readme_names_the_two_commands() -> None:
    text = README.read_text()
    assert "make up" in text and "make test" in text
