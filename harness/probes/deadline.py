"""A time budget for one piece of submission code inside a probe, so a slow step costs only itself.

The sandbox's wall-time limit kills the whole child, losing everything the probe recorded. A probe that
runs many independent steps (grid configurations, training steps) arms a `deadline` around each one
instead: past it, `OverBudget` is raised in the running code and the probe records that step as too
slow and moves on. SIGALRM interrupts Python code only; a single long C call (one huge matmul) finishes
first, and the sandbox's limit stays the backstop.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class OverBudget(BaseException):
    """Raised in the submission's code when its budget is spent (a BaseException, so that a
    submission's `except Exception` does not swallow it)."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise `OverBudget("did not finish within N s")` in the code run inside after `seconds`.

    Works in the main thread only (SIGALRM); elsewhere it does nothing. Not re-entrant.
    """
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise OverBudget(f"did not finish within {seconds:.3g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
