"""Verdict fixture (an attack on `psnr.training-improves`): predict returns zeros until `train` is called,
and the noisy input unchanged after, so "training" gains 15 dB without learning anything."""


class Model:
    def __init__(self):
        self.trained = False

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        self.trained = True

    def predict(self, test_input):
        return test_input.float() * (1.0 if self.trained else 0.0)
