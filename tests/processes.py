"""Finding a sandbox child's leftover processes from the outside, by a mark on their command line.

A daemon fixture becomes `sleep 300 MARK`; its pid means nothing here when it lived in a pid namespace
of its own, but its command line names it in every namespace.
"""

from __future__ import annotations

import time
from pathlib import Path


def processes_naming(mark: str) -> list[int]:
    """Live (not zombie) processes whose command line holds `mark`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            named = entry.name.isdigit() and mark.encode() in (entry / "cmdline").read_bytes()
            if named and (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def all_gone(mark: str, wait_s: float = 2.0) -> bool:
    """Whether every process naming `mark` is gone (or a zombie) within `wait_s`."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if not processes_naming(mark):
            return True
        time.sleep(0.05)
    return False
