"""Attack fixture (issue 8, item 1): the reference's `Model`, but `train` does its work only on its first
call; every later call returns at once.

Every graded `train` is the first call on a fresh `Model()`, so this trains and scores as the
reference does; a timing whose timed call is a later one would time it at almost nothing. The package is
the reference's with this file beside its `model.py` renamed to `reference_model.py`
(`tests.model_fixtures.reference_variant` assembles it, so the reference is not copied into the tests).
"""

from .reference_model import Model as _Reference


class Model(_Reference):
    def train(self, train_input, train_target, num_epochs=12):
        if getattr(self, "_done", False):
            return
        self._done = True
        super().train(train_input, train_target, num_epochs)
