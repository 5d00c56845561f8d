"""Faulty fixture: `Model.predict` prints about 100 MB before returning its input."""


class Model:
    def load_pretrained_model(self):
        pass

    def train(self, train_input, train_target, num_epochs):
        pass

    def predict(self, test_input):
        line = "debug " * 1000 + "\n"
        for _ in range(100 * 2**20 // len(line)):
            print(line, end="")
        print("last line")
        return test_input
