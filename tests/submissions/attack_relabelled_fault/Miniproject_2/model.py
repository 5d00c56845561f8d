"""Attack fixture (issue 7 item 10, issue 8): an exception escapes a probe from code re-labelled as the
harness's own, so that no frame of its traceback is in the submission's files.

`bait`'s `__class__` raises, so the api probe's look at model.py's names (`inspect.isclass`, outside
every guarded call of submission code) raises, in a function whose code object says it is the
harness's probe file. A child that judged fault from its frames called that a harness bug: a set-up
fault to re-run, its checks' points withheld instead of lost. It is the submission's fault: the parent
had released the child to the submission's code.
"""
import sys

HARNESS_PROBE = getattr(sys.modules.get("harness.checks.model_steps.probe"), "__file__", None)


class _Bait:
    @property
    def __class__(self):
        raise RuntimeError("probe state lost: a harness bug, re-run")


_raising = vars(_Bait)["__class__"].fget
_raising.__code__ = _raising.__code__.replace(co_filename=HARNESS_PROBE or "harness/checks/model_steps/probe.py")
bait = _Bait()


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return test_input.float()
