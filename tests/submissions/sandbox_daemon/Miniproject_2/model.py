"""Faulty fixture: `Model.train` leaves a daemon behind (double fork into a new session, then `sleep`).

It returns "PID MARK": the daemon's pid as it sees it, and the number it gave `sleep` as a second
argument (its command line then names it, in whichever pid namespace the daemon lives).
"""
import os
import random
import time


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        mark = f"0.{random.SystemRandom().randrange(10**12, 10**13)}"
        read, write = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.write(write, str(os.getpid()).encode())
                os.close(write)
                os.execv("/bin/sleep", ["sleep", "300", mark])
            os._exit(0)
        os.close(write)
        daemon = int(os.read(read, 32))
        os.wait()
        time.sleep(0.3)  # the daemon has become `sleep` by now
        return f"{daemon} {mark}"

    def predict(self, test_input):
        return test_input
