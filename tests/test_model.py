"""The reference `Model`: its API on any input the statement allows, its weights file, its training loop
against a torch.nn twin, and the course's preliminary checks. Everything here runs with autograd off, as
graders run it, except the torch reference side of the twin test."""

from __future__ import annotations

import math
import os
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional

from experiments.contenders import Width, course_topology
from Miniproject_2 import model as model_module
from Miniproject_2.model import ARCHITECTURE, Conv2d, Model, Sequential, Sigmoid
from Miniproject_2.others.training import (
    Recipe,
    apply_transform,
    batch_plan,
    learning_rate_at,
    load_weights,
    pad_to_multiple,
    steps_in,
)

BESTMODEL = Path(model_module.__file__).parent / "bestmodel.pth"
SMALL_RECIPE = Recipe(batch_size=4, warmup_steps=2)


@pytest.fixture(autouse=True)
def grad_disabled():
    """Graders call `torch.set_grad_enabled(False)` before importing a submission."""
    previous = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    yield
    torch.set_grad_enabled(previous)


def random_images(count: int, height: int = 32, width: int = 32, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, 3, height, width), generator=generator, dtype=torch.uint8)


def small_model(seed: int = 0) -> Model:
    torch.manual_seed(seed)
    model = Model()
    model.recipe = SMALL_RECIPE
    return model


def parameters_of(model: Model) -> dict[str, torch.Tensor]:
    return {name: tensor.clone() for name, tensor in model.network.state_dict().items()}


# --- the recipe's building blocks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "batch_size", "epochs", "batch_sizes"),
    [
        (1, 16, 1, [1]),
        (16, 16, 2, [16, 16]),
        (21, 16, 1, [16, 5]),
        (10, 4, 2, [4, 4, 2, 4, 4, 2]),
        (10, 4, 1.5, [4, 4, 2, 4, 4]),
    ],
    ids=["one-image", "exact-batches", "ragged-last-batch", "ragged-two-epochs", "one-and-a-half-epochs"],
)
def test_batch_plan_covers_every_image_once_per_epoch(size, batch_size, epochs, batch_sizes):
    recipe = Recipe(batch_size=batch_size)
    batches = list(batch_plan(size, epochs, recipe))
    assert [len(batch.indices) for batch in batches] == batch_sizes
    assert len(batches) == steps_in(size, epochs, batch_size)
    per_epoch = math.ceil(size / batch_size)
    for epoch in range(int(epochs)):
        seen = [i for batch in batches[epoch * per_epoch : (epoch + 1) * per_epoch] for i in batch.indices]
        assert sorted(seen) == list(range(size))


def test_batch_plan_is_seeded():
    def plan(seed: int) -> list:
        return [
            (b.indices, b.transform, b.swapped) for b in batch_plan(50, 2, Recipe(batch_size=8, seed=seed))
        ]

    assert plan(3) == plan(3)
    assert plan(3) != plan(4)
    transforms = {transform for _, transform, _ in plan(3)}
    assert transforms <= set(range(8)) and len(transforms) > 1


@pytest.mark.parametrize(
    ("step", "progress", "expected"),
    [
        (0, 0.0, 2.0 / 200),  # warm-up: lr·(step + 1)/warmup_steps
        (99, 0.0, 1.0),
        (200, 0.0, 2.0),  # cosine start
        (200, 0.5, 0.04 + 1.96 / 2),  # lr_min + (lr − lr_min)·(1 + cos(π/2))/2
        (200, 1.0, 0.04),  # lr·final_fraction
        (200, 1.5, 0.04),  # past the end: stays at the floor
    ],
    ids=["warmup-first", "warmup-middle", "cosine-start", "cosine-middle", "cosine-end", "past-end"],
)
def test_learning_rate_schedule(step, progress, expected):
    recipe = Recipe(learning_rate=2.0, warmup_steps=200, final_fraction=0.02)
    assert math.isclose(learning_rate_at(recipe, step, progress), expected, rel_tol=1e-12)


def test_transforms_are_the_eight_symmetries_of_the_square():
    square = torch.tensor([[1, 2], [3, 4]]).view(1, 1, 2, 2)
    seen = {tuple(apply_transform(square, t).flatten().tolist()) for t in range(8)}
    expected = {(1, 2, 3, 4), (2, 4, 1, 3), (4, 3, 2, 1), (3, 1, 4, 2)}  # the four turns
    expected |= {(b, a, d, c) for a, b, c, d in expected}  # each mirrored left-right
    assert seen == expected


@pytest.mark.parametrize(
    ("height", "width"),
    [(1, 1), (3, 5), (33, 47), (32, 32), (2, 9)],
    ids=["1x1", "3x5", "33x47", "already-multiple", "wider-than-twice"],
)
def test_padding_mirrors_edges_like_numpy_symmetric(height, width):
    images = torch.rand(2, 3, height, width, dtype=torch.float64)
    padded = pad_to_multiple(images, 4)
    expected = np.pad(images.numpy(), ((0, 0), (0, 0), (0, -height % 4), (0, -width % 4)), mode="symmetric")
    assert torch.equal(padded, torch.from_numpy(expected))


# --- train ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 5, 9], ids=["one-image", "less-than-a-batch", "ragged-batches"])
def test_train_any_count_takes_one_step_per_batch(count):
    model = small_model()
    before = parameters_of(model)
    model.train(random_images(count), random_images(count, seed=1), 2)
    assert len(model.losses) == steps_in(count, 2, SMALL_RECIPE.batch_size)
    assert all(math.isfinite(loss) for loss in model.losses)
    after = parameters_of(model)
    for name, tensor in after.items():
        assert torch.isfinite(tensor).all() and not torch.equal(tensor, before[name]), name


def test_train_gives_the_same_weights_from_uint8_and_float_input():
    noisy_a, noisy_b = random_images(6), random_images(6, seed=1)
    from_uint8, from_float = small_model(), small_model()
    from_uint8.train(noisy_a, noisy_b, 1)
    from_float.train(noisy_a.float(), noisy_b.double(), 1)
    for name, tensor in parameters_of(from_uint8).items():
        assert torch.equal(tensor, parameters_of(from_float)[name]), name


def test_train_is_reproducible_from_its_seeds():
    noisy_a, noisy_b = random_images(12), random_images(12, seed=1)
    runs = []
    for recipe_seed in (0, 0, 1):
        model = small_model(seed=5)
        model.recipe = replace(SMALL_RECIPE, seed=recipe_seed)
        model.train(noisy_a, noisy_b, 1)
        runs.append(model.losses)
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_train_follows_its_torch_twin_from_the_same_weights():
    """Eight steps of our framework against torch.nn + autograd + torch.optim.SGD on the same batches,
    learning rates and weights: the loss curves agree to float32 precision."""
    generator = torch.Generator().manual_seed(0)
    smooth = (
        (torch.rand(16, 3, 4, 4, generator=generator) * 200 + 20)
        .repeat_interleave(8, 2)
        .repeat_interleave(8, 3)
    )
    noisy_a, noisy_b = (
        (smooth + 20 * torch.randn(2, *smooth.shape, generator=generator)).clamp(0, 255).round()
    )
    recipe = replace(SMALL_RECIPE, learning_rate=2.0, momentum=0.9, warmup_steps=3)
    ours = small_model()
    ours.recipe = recipe
    twin = course_topology(Width.of(ARCHITECTURE))
    twin_tensors = list(twin.parameters())  # weight, bias of each convolution, in order
    for twin_tensor, our_tensor in zip(twin_tensors, ours.network.state_dict().values(), strict=True):
        twin_tensor.data.copy_(our_tensor)

    ours.train(noisy_a, noisy_b, 2)

    optimizer = torch.optim.SGD(twin.parameters(), lr=recipe.learning_rate, momentum=recipe.momentum)
    total = steps_in(16, 2, recipe.batch_size)
    twin_losses = []
    with torch.enable_grad():
        for step, batch in enumerate(batch_plan(16, 2, recipe)):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate_at(recipe, step, step / total)
            source, target = (noisy_b, noisy_a) if batch.swapped else (noisy_a, noisy_b)
            inputs = apply_transform(source[batch.indices].float() / 255, batch.transform)
            targets = apply_transform(target[batch.indices].float() / 255, batch.transform)
            optimizer.zero_grad()
            loss = functional.mse_loss(twin(inputs), targets)
            loss.backward()
            optimizer.step()
            twin_losses.append(loss.item())
    assert ours.losses == pytest.approx(twin_losses, rel=1e-4)
    assert twin_losses[-1] < twin_losses[0]  # the comparison is about a run that learns


# --- predict ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained() -> Model:
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    model = Model()
    model.load_pretrained_model()
    return model


@pytest.mark.parametrize(
    "shape",
    [(1, 3, 512, 512), (3, 3, 33, 47), (2, 3, 1, 1), (1, 3, 5, 2), (5, 3, 32, 32)],
    ids=["course-512", "odd-33x47", "1x1", "5x2", "course-32"],
)
def test_predict_returns_float_images_of_the_input_shape(trained, shape):
    images = torch.rand(shape) * 255
    output = trained.predict(images)
    assert output.shape == images.shape
    assert output.is_floating_point()
    assert float(output.min()) >= 0 and float(output.max()) <= 255


def test_predict_is_the_self_ensemble_of_the_padded_image_cropped_back(trained):
    images = torch.rand(2, 3, 33, 47) * 255
    padded = torch.from_numpy(
        np.pad(images.numpy() / 255, ((0, 0), (0, 0), (0, 3), (0, 1)), mode="symmetric")
    ).float()
    views = []
    for turns in range(4):
        for mirrored in (False, True):
            view = torch.rot90(padded, turns, (2, 3))
            view = view.flip(3) if mirrored else view
            output = trained.network.forward(view)
            output = output.flip(3) if mirrored else output
            views.append(torch.rot90(output, -turns, (2, 3)))
    expected = torch.stack(views).mean(0)[:, :, :33, :47] * 255
    torch.testing.assert_close(trained.predict(images), expected)


def test_predict_in_small_batches_equals_one_batch(trained, monkeypatch):
    images = random_images(7)
    whole = trained.predict(images)
    monkeypatch.setattr(model_module, "PREDICT_PIXELS_PER_BATCH", 3 * 32 * 32)
    torch.testing.assert_close(trained.predict(images), whole)


# --- the weights file -------------------------------------------------------------------------------------


def test_bestmodel_is_small_and_loads_from_any_working_directory(tmp_path, monkeypatch):
    assert BESTMODEL.stat().st_size < 5 * 2**20
    with BESTMODEL.open("rb") as file:
        saved = pickle.load(file)["state"]
    monkeypatch.chdir(tmp_path)
    model = Model()
    model.load_pretrained_model()
    restored = model.network.state_dict()
    assert list(restored) == list(saved)
    for name, tensor in saved.items():
        assert torch.equal(restored[name].cpu(), tensor), name
    assert os.getcwd() == str(tmp_path)


def test_save_then_load_restores_exactly(tmp_path):
    trained_model = small_model()
    trained_model.train(random_images(8), random_images(8, seed=1), 1)
    trained_model.save_model(tmp_path / "weights.pth")
    fresh = small_model(seed=1)
    fresh.network.load_state_dict(load_weights(tmp_path / "weights.pth", fresh.architecture))
    images = random_images(3)
    assert torch.equal(fresh.predict(images), trained_model.predict(images))


def test_weights_of_another_architecture_are_refused(tmp_path):
    model = small_model()
    model.save_model(tmp_path / "weights.pth")
    with pytest.raises(ValueError, match="holds weights for"):
        load_weights(tmp_path / "weights.pth", {**model.architecture, "channels": (8, 16)})


# --- the course's preliminary checks ----------------------------------------------------------------------


def test_course_preliminary_checks():
    model = Model()
    model.load_pretrained_model()
    output = model.predict(torch.rand(1, 3, 512, 512) * 255)
    assert output.shape == (1, 3, 512, 512)
    assert float(output.min()) >= 0 and float(output.max()) <= 255

    conv = Conv2d(3, 3, 3)
    x = torch.randn(1, 3, 32, 32)
    assert torch.allclose(conv.forward(x), functional.conv2d(x, conv.weight, conv.bias))
    sequence = Sequential(conv, Sigmoid())
    assert torch.allclose(sequence.forward(x), torch.sigmoid(functional.conv2d(x, conv.weight, conv.bias)))
