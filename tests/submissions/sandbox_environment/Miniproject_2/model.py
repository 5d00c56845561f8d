"""Fixture: a correct-looking Model plus a function that reports the process it runs in."""
import os
import socket
from pathlib import Path

import torch


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return test_input

    def fail(self):
        values = [1, 2]
        return values[5]


def environment(outside_file, sent):
    return {
        "cwd_entries": sorted(os.listdir(".")),
        "variables": sorted(os.environ),
        "threads": torch.get_num_threads(),
        "grad_enabled": torch.is_grad_enabled(),
        "model_file": str(Path(__file__).resolve()),
        "write_outside": can_write(outside_file),
        "write_scratch": can_write("notes.txt"),
        "connect": can_connect("1.1.1.1", 80),
        "draw": torch.empty(3).uniform_(),
        "echo": sent,
    }


def can_write(path):
    try:
        with open(path, "a"):
            pass
    except OSError as exc:
        return type(exc).__name__
    return "written"


def can_connect(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        return type(exc).__name__
    return "connected"
