"""Attack fixture (issue 8, item 1): slow every clock of the process 1000x, then train for 2.5 ms of CPU
per pair (1 s on 400 pairs).

Timing measured inside the child would read about 1 ms; the parent's wall time and the kernel's CPU
time of the child do not pass through the child's clocks.
"""
import time

SLOWDOWN = 1000.0
CPU_PER_PAIR_S = 0.0025


def _slowed(clock):
    start = clock()
    return lambda: start + (clock() - start) / SLOWDOWN


_thread_time = time.thread_time
time.perf_counter = _slowed(time.perf_counter)
time.monotonic = _slowed(time.monotonic)
time.time = _slowed(time.time)
time.process_time = _slowed(time.process_time)


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        started = _thread_time()
        while _thread_time() - started < CPU_PER_PAIR_S * len(train_input):
            pass
        return time.perf_counter()

    def predict(self, test_input):
        return test_input.float()
