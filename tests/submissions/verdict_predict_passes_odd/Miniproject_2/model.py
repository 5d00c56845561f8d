"""Verdict fixture (hostile review A4): `predict` denoises the course's sizes (a 2x2 mean, kept at the
input's shape) and hands any other size back unchanged. The odd sizes are judged on shape alone, so an
echo would earn `api.predict-odd-sizes` without denoising: it must fail, naming the echo."""


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
        if h % 2 or w % 2:
            return x
        small = x.reshape(n, c, h // 2, 2, w // 2, 2).mean((3, 5))
        return small.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
