"""Attack fixture (issue 8, item 5): reach out of the child.

`escape(harness_pid, socket_path, mark)` reads /etc/shadow, fills /dev/shm, writes a kernel setting
(its own value back), moves itself to the root cgroup, signals the harness (signal 0: only asks whether it
could), lists the harness's root through /proc and connects to a Unix socket of the harness.
"""
import os
import socket
from pathlib import Path


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return test_input.float()


def _attempt(action):
    try:
        action()
        return "done"
    except OSError as error:
        return type(error).__name__


def _connect(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(path)


def _rewrite(path):
    setting = Path(path)
    setting.write_text(setting.read_text())


def escape(harness_pid, socket_path, mark):
    return {
        "shadow": _attempt(lambda: Path("/etc/shadow").read_bytes()),
        "shm": _attempt(lambda: Path(f"/dev/shm/{mark}").write_bytes(b"x" * (1 << 20))),
        "sysctl": _attempt(lambda: _rewrite("/proc/sys/kernel/hostname")),
        "cgroup": _attempt(lambda: Path("/sys/fs/cgroup/cgroup.procs").write_text(str(os.getpid()))),
        "signal": _attempt(lambda: os.kill(harness_pid, 0)),
        "harness_root": _attempt(lambda: os.listdir(f"/proc/{harness_pid}/root/")),
        "socket": _attempt(lambda: _connect(socket_path)),
    }
