"""Verdict fixture: training moves the output from black towards the images but stops at 60% of their
brightness, about 6 dB below the noisy input: a gain over the untrained model, yet no denoiser."""


class Model:
    def __init__(self):
        self.gain = 0.0

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        self.gain = 0.6

    def predict(self, test_input):
        return test_input.float() * self.gain
