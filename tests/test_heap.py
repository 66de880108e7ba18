"""``freeze_startup_heap``: what a process built at start-up leaves the collector's walks, and what
it allocates later is still collected. Run in a fresh interpreter, so this test process's own heap
is not frozen."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc, json, weakref
import numpy, grpc  # a start-up's worth of long-lived objects
from services.common.heap import freeze_startup_heap

frozen = freeze_startup_heap()
walked = len(gc.get_objects(generation=2))

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a  # a cycle only the collector can free
gone = weakref.ref(a)
del a, b
gc.collect()
print(json.dumps({"frozen": frozen, "walked": walked, "cycle_freed": gone() is None}))
"""


def test_the_startup_heap_is_frozen_and_later_garbage_still_collected() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    found = json.loads(out.stdout)
    assert found["frozen"] > 10_000, found  # numpy and grpc alone leave about 30,000
    assert found["walked"] < found["frozen"] / 100, found  # a full collection no longer walks them
    assert found["cycle_freed"], found
