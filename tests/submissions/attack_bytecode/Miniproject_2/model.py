"""Attack fixture (issue 8, item 2): this source is clean; the test ships `hidden_model.txt` compiled
into `__pycache__/model.<tag>.pyc` with an unchecked hash, which Python would import instead."""


def origin():
    return "source"


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return test_input.float()
