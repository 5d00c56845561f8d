"""Attack fixture (hostile review 3, finding 4): the reference's `Model`, but `train` only stores its
arguments and the training runs at the start of the next `predict`.

It trains and scores as the reference does, since the grading script predicts after training; a timing
that times the `train` call alone gives it about 0 s. The package is the reference's with this file
beside its `model.py` renamed to `reference_model.py` (`tests.model_fixtures.reference_variant`).
"""

from .reference_model import Model as _Reference


class Model(_Reference):
    def train(self, train_input, train_target, num_epochs=12):
        self._pending = (train_input, train_target, num_epochs)

    def predict(self, test_input):
        pending, self._pending = getattr(self, "_pending", None), None
        if pending is not None:
            super().train(*pending)
        return super().predict(test_input)
