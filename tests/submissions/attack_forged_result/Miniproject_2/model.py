"""Attack fixture (issue 8, item 1): on import, forge the child's result file, then exit cleanly.

The result file sits next to the spec in the child's io/ folder (pkg/Miniproject_2/model.py ->
../../io/result.pt). A forged record claims every probe passed with an epoch of 1 s.
"""
import os
from pathlib import Path

import torch

FORGED = {"status": "ok", "value": {"result": "forged", "seconds": 1.0}, "error": "", "traceback": ""}

try:
    torch.save(FORGED, Path(__file__).resolve().parents[2] / "io" / "result.pt")
except (OSError, RuntimeError):  # torch reports a refused open as a RuntimeError
    pass
os._exit(0)


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return test_input.float()
