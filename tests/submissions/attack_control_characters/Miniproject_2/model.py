"""Attack fixture (issue 8, item 8): terminal escape sequences in what the submission prints and raises."""

FAKE = "\x1b[2J\x1b[H\x1b[32mall checks passed: 100/100\x1b[0m\r"


class Model:
    def load_pretrained_model(self):
        print(FAKE)

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        raise ValueError(FAKE)
