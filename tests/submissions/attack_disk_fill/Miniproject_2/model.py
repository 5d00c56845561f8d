"""Attack fixture (issue 8, item 5; review a09): fill the grader's disk from every place the child writes.

`train` fills its working folder until a write fails, and raises that error (what a grader's report
then shows); `fill(most_mb)` writes 1 MB files into its working folder (scratch/), its own package folder, $TMPDIR,
/tmp and /dev/shm, in turn, until a write fails or `most_mb` MB are written there, and says per place
how many MB went in, the error that stopped it and the file system type the kernel shows there.
"""
import os
from pathlib import Path

CHUNK = b"\0" * (1 << 20)


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        with open("fill", "wb") as out:
            while True:
                out.write(CHUNK)

    def predict(self, test_input):
        return test_input.float()


def _file_system(folder):
    best, kind = "", "?"
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields, _, rest = line.partition(" - ")
        mount = fields.split()[4]
        if (folder == mount or folder.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
            best, kind = mount, rest.split()[0]
    return kind


def fill(most_mb):
    places = {
        "scratch": os.getcwd(),
        "package": str(Path(__file__).parent),
        "tmpdir": os.environ["TMPDIR"],
        "tmp": "/tmp",
        "shm": "/dev/shm",
    }
    seen = {}
    for name, folder in places.items():
        written, error = 0, None
        while written < most_mb and error is None:
            try:
                with open(os.path.join(folder, f"fill-{written}"), "wb") as out:
                    out.write(CHUNK)
                written += 1
            except OSError as exc:
                error = exc.errno
        seen[name] = {"mb": written, "errno": error, "type": _file_system(os.path.realpath(folder))}
    return seen
