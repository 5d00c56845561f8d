"""Verdict fixture: `predict` runs a stride-2 down and up path, so odd sizes come back cropped (33x47 ->
32x46) while the course's 512x512 and 32x32 inputs keep their shape. Only `api.predict-odd-sizes` fails."""


class Model:
    def __init__(self):
        pass

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        x = test_input.float()
        n, c, h, w = x.shape
        small = x[:, :, : h // 2 * 2, : w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).mean((3, 5))
        return small.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
