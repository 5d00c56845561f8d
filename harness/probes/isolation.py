"""Operating-system isolation a child applies to itself before the submission's code is imported.

Linux only, and only as far as the OS allows; each step reports whether it took effect so the report can
say so truthfully:

- network: `unshare(CLONE_NEWNET)` puts the process in a new network namespace with no interfaces up,
  so any connection fails with "Network is unreachable" (needs CAP_SYS_ADMIN, i.e. root).
- filesystem: `unshare(CLONE_NEWNS)`, then every mount except /proc, /sys, /dev and the child's own
  temporary folder is remounted read-only inside that namespace: the original submission, the data files
  and the harness cannot be written, while the scratch folder and the package copy stay writable.
- capabilities: the bounding set and the effective/permitted/inheritable sets are emptied and
  no_new_privs is set, so code running as root can no longer undo the two steps above.
- resources: RLIMIT_AS (a backstop for the parent's RSS polling), RLIMIT_FSIZE, no core dumps.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522
LAST_CAPABILITY = 63
KEEP_WRITABLE = ("/proc", "/sys", "/dev")
MAX_FILE_BYTES = 1 << 30


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def isolate(writable: Path) -> dict[str, bool]:
    """Cut the network, make every mount but `writable` read-only, drop capabilities.

    Returns which steps took effect: {"network": ..., "filesystem": ..., "capabilities": ...}.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return {"network": False, "filesystem": False, "capabilities": False}
    network = libc.unshare(CLONE_NEWNET) == 0
    filesystem = libc.unshare(CLONE_NEWNS) == 0 and _read_only_except(libc, writable)
    capabilities = _drop_capabilities(libc)
    return {"network": network, "filesystem": filesystem, "capabilities": capabilities}


def limit_resources(address_space_mb: int) -> None:
    """Cap the address space (0: leave it), the size of any file written, and disable core dumps."""
    limits = [(resource.RLIMIT_FSIZE, MAX_FILE_BYTES), (resource.RLIMIT_CORE, 0)]
    if address_space_mb > 0:
        limits.append((resource.RLIMIT_AS, address_space_mb << 20))
    for limit, value in limits:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(limit, (value, value))


def _read_only_except(libc: ctypes.CDLL, writable: Path) -> bool:
    """Remount every mount point read-only in this mount namespace, except `writable` and KEEP_WRITABLE."""
    keep = os.fsencode(str(writable))
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    if libc.mount(keep, keep, None, MS_BIND | MS_REC, None) != 0:
        return False
    root_done = False
    for mount_point in _mount_points():
        if mount_point == str(writable) or mount_point.startswith(KEEP_WRITABLE):
            continue
        target = os.fsencode(mount_point)
        done = libc.mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY, None) == 0
        root_done = root_done or (mount_point == "/" and done)
    return root_done


def _mount_points() -> list[str]:
    """Mount points of this namespace, from /proc/self/mountinfo (octal escapes decoded)."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            points.append(fields[4].encode().decode("unicode_escape"))
    return points


def _drop_capabilities(libc: ctypes.CDLL) -> bool:
    """Empty the bounding, effective, permitted and inheritable capability sets; set no_new_privs."""
    for capability in range(LAST_CAPABILITY + 1):
        libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    dropped = libc.capset(ctypes.byref(header), data) == 0
    return libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 and dropped
