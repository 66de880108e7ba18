"""One rank's process: ``python -m meshserve.training.rank PAYLOAD LOCAL_RANK ERROR_FILE``.

A fresh interpreter, as torchrun starts its workers (never a fork of the caller, whose threads and
locks a fork would copy mid-flight): it loads the run's payload (configs, model, data, callbacks)
and runs :func:`~meshserve.training.loop.run_rank`. A failure's message goes to ``ERROR_FILE``
for the trainer to report with the rank.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path


def main() -> int:
    """Entry point."""
    payload, local_rank, error_file = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    try:
        import torch

        from meshserve.training.loop import run_rank

        args = torch.load(payload, weights_only=False)
        run_rank(local_rank, *args)
    except BaseException as error:  # reported by the trainer, naming this rank
        lines = traceback.format_exception_only(type(error), error)
        error_file.write_text((lines[-1] if lines else repr(error)).strip())
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave without the interpreter's teardown: the rank's work is written and its process group
    # destroyed, and a collective library's threads destroyed at teardown have aborted a finished
    # rank ("terminate called without an active exception", SIGABRT) in one run out of many.
    os._exit(code)
