"""Attack fixture (issue 8, item 6): a daemon that leaves into new user and network namespaces.

`Model.train` double-forks into a new session; the daemon calls `unshare(CLONE_NEWUSER |
CLONE_NEWNET)`, reports the errno (0: it worked) and becomes `sleep 300 MARK`. Returns "ERRNO MARK".
"""
import ctypes
import os
import random
import time

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        mark = f"0.{random.SystemRandom().randrange(10**12, 10**13)}"
        read, write = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                libc = ctypes.CDLL(None, use_errno=True)
                failed = libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0
                os.write(write, str(ctypes.get_errno() if failed else 0).encode())
                os.close(write)
                os.execv("/bin/sleep", ["sleep", "300", mark])
            os._exit(0)
        os.close(write)
        errno = int(os.read(read, 32))
        os.wait()
        time.sleep(0.3)  # the daemon has become `sleep` by now
        return f"{errno} {mark}"

    def predict(self, test_input):
        return test_input.float()
