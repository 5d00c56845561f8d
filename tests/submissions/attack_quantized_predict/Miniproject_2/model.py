"""Attack fixture: `predict` returns its input as a quantized tensor (torch.quint8). The parent cannot do
arithmetic on one (`.double()` raises), which once made every api and psnr check a set-up error to
re-run; it is the submission's failure to return a plain tensor."""

from torch import quantize_per_tensor, quint8


class Model:
    def __init__(self):
        pass

    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        return quantize_per_tensor(test_input.float(), 1.0, 0, quint8)
