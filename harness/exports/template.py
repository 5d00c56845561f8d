"""The code every submission starts from: the statement's listing of the framework's `Module` base
class and of the `Model` class graders import, with their method stubs and comments. Similarity leaves
it out, so two submissions that only share the template are not flagged."""

TEMPLATE_CODE = """\
class Module(object):
    def forward(self, *input):
        raise NotImplementedError

    def backward(self, *gradwrtoutput):
        raise NotImplementedError

    def param(self):
        return []


class Model():
    def __init__(self) -> None:
        ## instantiate model + optimizer + loss function + any other stuff you need
        pass

    def load_pretrained_model(self) -> None:
        ## This loads the parameters saved in bestmodel.pth into the model
        pass

    def train(self, train_input, train_target, num_epochs) -> None:
        #: train_input : tensor of size (N, C, H, W) containing a noisy version of the images
        #: train_target : tensor of size (N, C, H, W) containing another noisy version of the
        #: same images, which only differs from the input by their noise
        pass

    def predict(self, test_input) -> torch.Tensor:
        #: test_input : tensor of size (N1, C, H, W) with values in range 0-255 that has to
        #: be denoised by the trained or the loaded network
        #: returns a tensor of the size (N1, C, H, W) with values in range 0-255
        pass
"""
