"""Operating-system isolation of a sandbox child, applied before any of the submission's code runs.

The child (`harness.probes.child`) is two processes. The *warden* never runs submission code: it cuts
itself off (`detach`), forks the *runner*, which locks itself in (`confine`) and only then imports the
submission. The warden checks the runner's isolation from the kernel's own accounts
(`/proc/<runner>/status`, `/proc/<runner>/ns`, never from anything the runner says: `verify`) and is the
one that writes the result file, into a folder the runner cannot write.

Layers (each reported as held or not, so the report can say which protections held):

- `network`: a new network namespace with no interface up: every connection fails.
- `filesystem`: a new mount namespace whose root is a fresh tmpfs *view* holding only read-only binds of
  the system and Python folders (`/usr`, `/lib*`, `/bin`, `/etc`, Python's prefix and `sys.path`), the
  harness package and the child's own folder: nothing of the grader's files (data, reports, the
  original submission, other children, the fork server's socket) exists in it. The child's own folder
  is shown read-only too: every place the runner can write (`/tmp`, `/dev/shm`, and its folder's
  `pkg/` copy of the submission, `scratch/` and `tmp/`) is a folder of one tmpfs (`WRITABLE`) whose
  size is bounded (`tmpfs_mb`, within the memory limit, whose cgroup counts tmpfs pages too), so a
  submission filling it gets ENOSPC in its own writes and the grader's disk is never touched;
  `/sys` and `/proc/sys` are read-only.
- `pid`: a new pid namespace with its own `/proc`: the runner sees only its own processes (not the
  harness's command line, not its siblings); the namespace's first process only reaps and reports the
  runner's end, after which the kernel kills every process left in the namespace; each dies with its
  parent (`PR_SET_PDEATHSIG`).
- `uid`: as root, the runner drops to an unprivileged uid of its own (`child_uid`): it cannot read
  root's files, signal the harness or another child, or write the warden's result folder.
- `user-namespace`: without root, a new user namespace makes the namespaces above possible where the
  distribution allows it (the runner then keeps the grader's uid outside: `uid` does not hold).
- `seccomp`: a filter makes `unshare`/`clone` with `CLONE_NEWUSER` fail (EPERM) and `clone3` unknown
  (ENOSYS, glibc falls back to `clone`): no new user namespace, so no way back to capabilities.
- `capabilities`: bounding, effective, permitted and inheritable sets empty, `no_new_privs` set.
- resources: RLIMIT_AS (a backstop for the parent's RSS polling), RLIMIT_FSIZE, no core dumps.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import resource
import shutil
import signal
import sys
from collections.abc import Iterable
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
LAST_CAPABILITY = 63
MAX_FILE_BYTES = 1 << 30
VIEW_TMPFS = "size=16m,mode=755"
WRITABLE = "writable"
"""The folder of the child's root where the warden mounts the one bounded tmpfs the runner writes in."""
WRITABLE_INODES = 200_000
"""Files and folders that tmpfs may hold (each costs kernel memory outside its size)."""
WRITABLE_PLACES = {"system-tmp": "/tmp", "shm": "/dev/shm"}
"""Folders of the writable tmpfs shown at system paths of the view (world-writable, sticky)."""
OWN_WRITABLE = ("pkg", "scratch", "tmp")
"""Folders of the child's root that the runner writes in, shown from the writable tmpfs (its own)."""
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
CHILD_UID_BASE = 1_000_000
CHILD_UID_RANGE = 1_000_000_000
LAYERS = ("network", "filesystem", "pid", "uid", "user-namespace", "seccomp", "capabilities")
"""Every layer a child reports, in the order reports list them."""

SECCOMP_ARCHES = {"x86_64": (0xC000003E, 272, 56, 435), "aarch64": (0xC00000B7, 97, 220, 435)}
"""Per machine: (AUDIT_ARCH, __NR_unshare, __NR_clone, __NR_clone3)."""
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38
X32_SYSCALL_BIT = 0x40000000


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


class _SockFilter(ctypes.Structure):
    _fields_ = (
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    )


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter)))


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def child_uid(root: Path) -> int:
    """The unprivileged uid of the child whose folder is `root`: derived from the folder's inode, so two
    children that exist at the same time (each has its own folder) get different uids."""
    return CHILD_UID_BASE + os.stat(root).st_ino % CHILD_UID_RANGE


def detach(
    view: Path, child_root: Path, visible: Iterable[str], tmpfs_mb: int, uid: int | None
) -> dict[str, bool]:
    """In the warden: new user (without root), network, mount and pid namespaces, and the view
    (its writable folders owned by `uid`, None: by the warden's own).

    The pid namespace applies to the processes forked after this call (the runner). Returns the layers
    that took effect: "user-namespace", "network", "filesystem", "pid".
    """
    libc = _libc()
    if libc is None or sys.platform != "linux":
        return {"user-namespace": False, "network": False, "filesystem": False, "pid": False}
    user_namespace = os.geteuid() != 0 and _enter_user_namespace(libc)
    network = libc.unshare(CLONE_NEWNET) == 0
    mounts = libc.unshare(CLONE_NEWNS) == 0
    pid = libc.unshare(CLONE_NEWPID) == 0
    filesystem = mounts and _build_view(libc, view, child_root, visible, tmpfs_mb, uid)
    return {"user-namespace": user_namespace, "network": network, "filesystem": filesystem, "pid": pid}


def confine(view: Path | None, warden: int, uid: int | None) -> None:
    """In the runner, right after the fork: die with the warden, own /proc, chroot into the view, drop
    to `uid` (None: stay), drop capabilities, install the seccomp filter. Failures are left to `verify`."""
    libc = _libc()
    if libc is None:
        return
    die_with_parent()
    if os.getppid() not in (warden, 0):  # 0: the warden, outside the runner's pid namespace
        os._exit(1)
    if view is not None:
        proc = os.fsencode(view / "proc")
        if libc.mount(b"proc", proc, b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) == 0:
            _bind(libc, view / "proc" / "sys", view / "proc" / "sys", read_only=True)
        with contextlib.suppress(OSError):
            os.chroot(view)
            os.chdir("/")
    for capability in range(LAST_CAPABILITY + 1):
        libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
    if uid is not None:
        with contextlib.suppress(OSError):
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
    header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    libc.capset(ctypes.byref(header), (_CapData * 2)())
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _deny_user_namespaces(libc)


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies (`PR_SET_PDEATHSIG`)."""
    libc = _libc()
    if libc is not None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def child_of(parent: int) -> int | None:
    """The one child process of `parent` (from /proc), None when it has none."""
    try:
        listed = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        return int(listed[0]) if listed else None
    except (OSError, ValueError):
        pass
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and int((entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[1]) == parent
            ):
                return int(entry.name)
        except (OSError, ValueError, IndexError):
            continue
    return None


def verify(runner: int | None, uid: int | None, view: Path | None) -> dict[str, bool]:
    """The runner's "filesystem" (its root is `view`; None: no view), "pid", "uid", "seccomp" and
    "capabilities" layers, read from the kernel's accounts (all False when there is no runner)."""
    try:
        if runner is None:
            raise ProcessLookupError("no runner")
        status = dict(
            line.split(":\t", 1)
            for line in Path(f"/proc/{runner}/status").read_text().splitlines()
            if ":\t" in line
        )
        own_pid_namespace = os.readlink(f"/proc/{runner}/ns/pid") != os.readlink("/proc/self/ns/pid")
        root = os.readlink(f"/proc/{runner}/root")
    except OSError:
        return {"filesystem": False, "pid": False, "uid": False, "seccomp": False, "capabilities": False}
    uids = {int(value) for value in status.get("Uid", "0").split()}
    no_capabilities = all(int(status.get(key, "1"), 16) == 0 for key in ("CapEff", "CapPrm", "CapBnd"))
    return {
        "filesystem": view is not None and root == str(view),
        "pid": own_pid_namespace and len(status.get("NSpid", "").split()) > 1,
        "uid": uid is not None and uids == {uid},
        "seccomp": status.get("Seccomp", "0").strip() == "2",
        "capabilities": no_capabilities and status.get("NoNewPrivs", "0").strip() == "1",
    }


def limit_resources(address_space_mb: int) -> None:
    """Cap the address space (0: leave it), the size of any file written, and disable core dumps."""
    limits = [(resource.RLIMIT_FSIZE, MAX_FILE_BYTES), (resource.RLIMIT_CORE, 0)]
    if address_space_mb > 0:
        limits.append((resource.RLIMIT_AS, address_space_mb << 20))
    for limit, value in limits:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(limit, (value, value))


def visible_paths(harness_dirs: Iterable[str]) -> list[str]:
    """What the view shows read-only: system folders, Python's prefixes and import folders, the harness.

    `sys.path` entries inside a project checkout (the folder holding the harness package: its data and
    reports) are left out; the harness package itself is shown at each path it is imported from.
    """
    harness_dirs = list(dict.fromkeys(harness_dirs))
    checkouts = {os.path.dirname(os.path.realpath(path)) for path in harness_dirs}
    shown = [*SYSTEM_PATHS, sys.prefix, sys.base_prefix, sys.exec_prefix]
    for entry in sys.path:
        if entry and os.path.isdir(entry) and os.path.realpath(entry) not in checkouts:
            shown.append(os.path.abspath(entry))
    return list(dict.fromkeys([*shown, *harness_dirs]))


def _enter_user_namespace(libc: ctypes.CDLL) -> bool:
    """Become root of a new user namespace, mapped to the caller's own uid and gid outside."""
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(CLONE_NEWUSER) != 0:
        return False
    try:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    except OSError:
        return False
    return True


def _build_view(
    libc: ctypes.CDLL, view: Path, child_root: Path, visible: Iterable[str], tmpfs_mb: int, uid: int | None
) -> bool:
    """Mount the view at `view` (see the module docstring); True when every required mount held."""
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    if libc.mount(b"tmpfs", os.fsencode(view), b"tmpfs", MS_NOSUID | MS_NODEV, VIEW_TMPFS.encode()) != 0:
        return False
    held = _bind(libc, Path("/dev"), _inside(view, "/dev"), read_only=False)
    held &= _bind(libc, Path("/sys"), _inside(view, "/sys"), read_only=True)
    writable = child_root / WRITABLE
    held &= _mount_writable(libc, writable, child_root, tmpfs_mb, uid)
    for folder, place in WRITABLE_PLACES.items():
        held &= _bind(libc, writable / folder, _inside(view, place), read_only=False)
    for path in visible:
        _show(libc, view, path)
    (view / "proc").mkdir(exist_ok=True)
    shown_root = _inside(view, str(child_root))
    held &= _bind(libc, child_root, shown_root, read_only=True)
    for folder in OWN_WRITABLE:
        held &= _bind(libc, writable / folder, shown_root / folder, read_only=False)
    return held


def _mount_writable(
    libc: ctypes.CDLL, writable: Path, child_root: Path, tmpfs_mb: int, uid: int | None
) -> bool:
    """Mount the bounded tmpfs at `writable` and lay out its folders: those of `WRITABLE_PLACES` open to
    all, those of `OWN_WRITABLE` the runner's (`uid`), the package copied in from the child's folder."""
    options = f"size={max(tmpfs_mb, 16)}m,nr_inodes={WRITABLE_INODES},mode=755".encode()
    try:
        writable.mkdir(exist_ok=True)
    except OSError:
        return False
    if libc.mount(b"tmpfs", os.fsencode(writable), b"tmpfs", MS_NOSUID | MS_NODEV, options) != 0:
        return False
    try:
        for folder in WRITABLE_PLACES:
            (writable / folder).mkdir(mode=0o1777)
            os.chmod(writable / folder, 0o1777)
        shutil.copytree(child_root / "pkg", writable / "pkg", symlinks=True)
        for folder in OWN_WRITABLE[1:]:
            (writable / folder).mkdir()
        if uid is not None:
            for folder in OWN_WRITABLE:
                give(writable / folder, uid)
    except OSError:
        return False
    return True


def give(folder: Path, uid: int) -> None:
    """Make `folder` and everything in it owned by `uid` (links themselves, never what they point to)."""
    os.chown(folder, uid, uid, follow_symlinks=False)
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            os.chown(os.path.join(parent, name), uid, uid, follow_symlinks=False)


def _show(libc: ctypes.CDLL, view: Path, path: str) -> None:
    """Make `path` appear in the view, read-only: a symbolic link is copied, a folder bound."""
    target = _inside(view, path)
    if os.path.islink(path):
        if not os.path.lexists(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(os.readlink(path))
        return
    if os.path.isdir(path) and not os.path.ismount(target):
        _bind(libc, Path(path), target, read_only=True)


def _inside(view: Path, path: str) -> Path:
    return view / os.path.abspath(path).lstrip("/")


def _bind(libc: ctypes.CDLL, source: Path, target: Path, read_only: bool) -> bool:
    """Bind `source` at `target` (made if needed), then remount it read-only (when asked) and nosuid."""
    try:
        target.mkdir(parents=True, exist_ok=True)
        kept = os.statvfs(source).f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        return False
    if libc.mount(os.fsencode(source), os.fsencode(target), None, MS_BIND, None) != 0 and (
        libc.mount(os.fsencode(source), os.fsencode(target), None, MS_BIND | MS_REC, None) != 0
    ):  # in a user namespace, a mount with mounts on it (/dev, /sys) binds only with them (MS_REC)
        return False
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | kept | (MS_RDONLY if read_only else 0)
    return libc.mount(None, os.fsencode(target), None, flags, None) == 0


def _deny_user_namespaces(libc: ctypes.CDLL) -> bool:
    """Install the seccomp filter of the module docstring (needs no_new_privs or CAP_SYS_ADMIN)."""
    arch = SECCOMP_ARCHES.get(platform.machine())
    if arch is None:
        return False
    audit_arch, unshare, clone, clone3 = arch
    load, jump_eq, jump_ge, jump_set, ret = (
        0x20,
        0x15,
        0x35,
        0x45,
        0x06,
    )  # BPF_LD|W|ABS, BPF_JMP|JEQ/JGE/JSET|K, BPF_RET|K
    program = [
        (load, 0, 0, 4),  # seccomp_data.arch
        (jump_eq, 1, 0, audit_arch),
        (ret, 0, 0, SECCOMP_RET_ALLOW),
        (load, 0, 0, 0),  # seccomp_data.nr
        (jump_ge, 0, 1, X32_SYSCALL_BIT),  # the x32 numbering of the same calls: refused whole
        (ret, 0, 0, SECCOMP_RET_ERRNO | EPERM),
        (jump_eq, 0, 1, clone3),
        (ret, 0, 0, SECCOMP_RET_ERRNO | ENOSYS),
        (jump_eq, 1, 0, unshare),
        (jump_eq, 0, 3, clone),
        (load, 0, 0, 16),  # low half of seccomp_data.args[0]: the flags of unshare and clone
        (jump_set, 0, 1, CLONE_NEWUSER),
        (ret, 0, 0, SECCOMP_RET_ERRNO | EPERM),
        (ret, 0, 0, SECCOMP_RET_ALLOW),
    ]
    filters = (_SockFilter * len(program))(*(_SockFilter(*instruction) for instruction in program))
    prog = _SockFprog(len(program), filters)
    return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) == 0
