"""Attack fixture (issue 8, item 7): ask the harness's fork server for an unisolated process.

`forge(socket_path)` connects to the server's socket and sends a request naming a child folder that
does not exist, with two file descriptors as the harness does; it returns what happened.
"""
import json
import os
import socket


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return test_input.float()


def forge(socket_path):
    request = json.dumps({"spec": "/nonexistent/io/spec.json", "environment": {}}).encode() + b"\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(socket_path)
            socket.send_fds(connection, [request], [1, 2])
            return connection.recv(4096).decode()
    except OSError as error:
        return type(error).__name__
