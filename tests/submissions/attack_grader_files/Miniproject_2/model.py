"""Attack fixture (issue 8, item 3): look for the grader's files from inside the child.

`look(secret, harness_pid)` tries a file of the grader's whose path it was told (as the val set's path
can be read from the harness's command line), the harness's command line itself under /proc, the data
folder of the checkout the harness runs from, and what else lies in /tmp.
"""
from pathlib import Path

import harness


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return test_input.float()


def _attempt(action):
    try:
        return action()
    except OSError as error:
        return type(error).__name__


def look(secret, harness_pid):
    checkout = Path(harness.__file__).resolve().parents[1]
    return {
        "secret": _attempt(lambda: Path(secret).read_text()),
        "harness_cmdline": _attempt(lambda: Path(f"/proc/{harness_pid}/cmdline").read_bytes().decode()),
        "checkout_data": _attempt(lambda: sorted(p.name for p in (checkout / "test_data").iterdir())),
        "processes": sorted(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()),
        "tmp": sorted(p.name for p in Path("/tmp").iterdir()),
    }
