"""Attack fixture: predict hands the images to another Python process, which runs
torch.nn.functional.conv2d and sends the result back.

Neither rule check follows into a program the submission starts: the source holds conv2d only inside a
string, and the run-time recorder lives in this process. `api.predict` passes (a blur of the input), so
only rules.static stands in the way: `import subprocess` is a finding.
"""

import pickle
import subprocess
import sys

from torch import empty

BLUR = (
    "import pickle, sys, torch; x, w = pickle.load(sys.stdin.buffer); "
    "sys.stdout.buffer.write(pickle.dumps(torch.nn.functional.conv2d(x, w, padding=1)))"
)


class Model:
    def __init__(self):
        self.weight = empty(3, 3, 3, 3).fill_(0)
        for channel in range(3):
            self.weight[channel, channel] = 1 / 9

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        images = pickle.dumps((test_input.float(), self.weight))
        done = subprocess.run([sys.executable, "-c", BLUR], input=images, capture_output=True, check=True)
        return pickle.loads(done.stdout)
