"""Faulty fixture: model.py does not parse (a missing colon on line 5)."""


class Model
    def predict(self, test_input):
        return test_input
