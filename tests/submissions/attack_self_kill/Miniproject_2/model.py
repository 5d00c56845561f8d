"""Attack fixture (issue 7 item 10, issue 8): `train` sends SIGKILL to its own process.

A SIGKILL the harness did not send for a limit, with no out-of-memory kill, looked like the machine's
doing: a set-up fault to re-run, the training checks' points withheld instead of lost. The child's own
processes can send it, so once the child was released to the submission's code it is the submission's.
"""
import os
import signal


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        os.kill(os.getpid(), signal.SIGKILL)

    def predict(self, test_input):
        return test_input.float()
