"""Attack fixture (issue 8, item 8): `predict` returns 60 levels of shared lists (a few KB pickled,
2^60 items to walk)."""


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        nested = [0]
        for _ in range(60):
            nested = [nested, nested]
        return nested
