"""Attack fixture (issue 8, item 8): terminal escape sequences in what the submission prints and raises,
and (review D) invisible and bidirectional format characters that make a message read otherwise."""

FAKE = "\x1b[2J\x1b[H\x1b[32mall checks passed: 100/100\x1b[0m\r"
HIDDEN = "\u202e\u2066 001/0\u2069\u200b\u2060\ufeff\u061c\U000e0041\ue000"


class Model:
    def load_pretrained_model(self):
        print(FAKE)

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        raise ValueError(HIDDEN + FAKE)
