"""Faulty fixture: `Model.train` leaves a daemon behind (double fork into a new session) and returns its pid."""
import os
import time


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        read, write = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.write(write, str(os.getpid()).encode())
                os.close(write)
                while True:
                    time.sleep(1)
            os._exit(0)
        os.close(write)
        daemon = int(os.read(read, 32))
        os.wait()
        return daemon

    def predict(self, test_input):
        return test_input
