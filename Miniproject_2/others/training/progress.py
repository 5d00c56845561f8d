"""A training run's one-line progress report."""

import sys
import time


class ProgressLine:
    """A single self-overwriting line on stderr (`step/total  loss  images/s`), or nothing when silent."""

    def __init__(self, total_steps: int, enabled: bool) -> None:
        self.total_steps = total_steps
        self.enabled = enabled
        self.started = time.perf_counter()
        self.last_shown = 0.0
        self.images = 0

    def update(self, step: int, batch_images: int, loss) -> None:
        """Count a finished step; redraw the line at most once a second (`loss`, a 0-dim tensor, is read
        only then, so a CUDA run is not synchronised every step)."""
        self.images += batch_images
        now = time.perf_counter()
        if not self.enabled or (now - self.last_shown < 1.0 and step + 1 < self.total_steps):
            return
        self.last_shown = now
        rate = self.images / max(now - self.started, 1e-9)
        end = "\n" if step + 1 == self.total_steps else ""
        print(
            f"\rstep {step + 1}/{self.total_steps}  loss {float(loss):.5f}  {rate:.0f} images/s",
            end=end,
            file=sys.stderr,
        )
