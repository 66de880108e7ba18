"""The examples here are the documents' Python examples, complete and verbatim: every ```python
block of documents 000, 002, 003 and 004 has a copy (``examples/d<doc>_NN.py``, in document
order) that differs from it only where the document imports its own package (``harness.IMPORTS``).
Reads the documents from shared/seeds (or MESHSERVE_SPEC_DIR)."""

from __future__ import annotations

import pytest

from tests.sdk_examples.harness import (
    blocks_of,
    copies_of,
    document,
    expected_copy,
    source,
    spec_dir,
    translated,
)

DOCS = ("000", "002", "003", "004")

pytestmark = pytest.mark.skipif(spec_dir() is None, reason="the documents (shared/seeds) are not here")


@pytest.mark.parametrize("doc", DOCS)
def test_every_python_example_has_a_verbatim_copy(doc: str) -> None:
    blocks = blocks_of(document(doc))
    names = copies_of(doc)
    assert names == [f"d{doc}_{n:02d}" for n in range(1, len(blocks) + 1)], "one copy per block"
    for name, block in zip(names, blocks, strict=True):
        assert source(name) == expected_copy(doc, block), f"{name} differs from document {doc}"


def test_the_documents_examples_are_all_counted() -> None:
    # 003 has one Python example (the rest are HTTP, JSON and JavaScript), 004 three (§8.4's two
    # error-handling snippets with requests, §10.1's client); 000 and 002 twenty-four each.
    assert {doc: len(blocks_of(document(doc))) for doc in DOCS} == {
        "000": 24,
        "002": 24,
        "003": 1,
        "004": 3,
    }


def test_only_the_import_of_the_documents_package_changes() -> None:
    assert translated("000", "import ace3\n") == "import meshserve.compat.ace3 as ace3\n"
    assert translated("000", "import ace3_extra\n") == "import ace3_extra\n"
    assert translated("002", "from inferneo import A, B\n") == "from meshserve.compat.inferneo import A, B\n"
    assert translated("004", "import requests\n") == "import requests\n"
    assert translated("003", "client = AIClient()\n") == "client = AIClient()\n"
