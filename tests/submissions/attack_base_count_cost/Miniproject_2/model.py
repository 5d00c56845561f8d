"""Attack fixture (hostile review 3, finding 5): the reference's `Model`, but a `train` on exactly 400
pairs (the timing's public base count) burns as much CPU again after training.

It trains and scores as the reference does; a timing whose every round's base child trains on 400 pairs
sees the full child cost about what the base child did and gives it about 0 s. The package is the
reference's with this file beside its `model.py` renamed to `reference_model.py`
(`tests.model_fixtures.reference_variant`).
"""

import time

from .reference_model import Model as _Reference


class Model(_Reference):
    def train(self, train_input, train_target, num_epochs=12):
        started = time.process_time()
        super().train(train_input, train_target, num_epochs)
        if train_input.shape[0] == 400:
            end = time.process_time() + (time.process_time() - started)
            while time.process_time() < end:
                pass
