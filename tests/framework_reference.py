"""Reference runs for the framework tests: the same computation in `torch.nn` + autograd.

`compare_with_torch` runs one of our blocks and its `torch.nn` twin (parameters copied ours -> theirs,
paired in `param()` / `parameters()` order) on the same input and output gradient, and returns the
largest absolute differences of output, input gradient and each parameter gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Differences:
    output: float
    input_grad: float
    parameter_grads: tuple[float, ...]

    @property
    def largest(self) -> float:
        return max((self.output, self.input_grad, *self.parameter_grads))


def copy_parameters(ours, theirs: torch.nn.Module) -> None:
    """theirs.parameters()[k] <- ours.param()[k][0], in order; the two must have the same shapes."""
    pairs, parameters = ours.param(), list(theirs.parameters())
    assert [tuple(p.shape) for p, _ in pairs] == [tuple(p.shape) for p in parameters]
    with torch.no_grad():
        for (mine, _), theirs_parameter in zip(pairs, parameters, strict=True):
            theirs_parameter.copy_(mine)


def torch_run(theirs: torch.nn.Module, x: torch.Tensor, grad_output: torch.Tensor | None = None):
    """(output, dL/dx, [dL/dparameter]) by autograd, with L = Σ output · grad_output."""
    with torch.enable_grad():
        leaf = x.detach().clone().requires_grad_(True)
        for parameter in theirs.parameters():
            parameter.grad = None
        output = theirs(leaf)
        if grad_output is None:
            grad_output = torch.randn_like(output)
        output.backward(grad_output)
    return output.detach(), leaf.grad, [p.grad for p in theirs.parameters()], grad_output


def compare_with_torch(ours, theirs: torch.nn.Module, x: torch.Tensor) -> Differences:
    """Copy parameters, run both, check our inputs were left untouched, and measure the differences."""
    copy_parameters(ours, theirs)
    output_ref, input_grad_ref, parameter_grads_ref, grad_output = torch_run(theirs, x)
    x_before, grad_before = x.clone(), grad_output.clone()
    with torch.no_grad():
        ours.zero_grad()
        output = ours.forward(x)
        input_grad = ours.backward(grad_output)
    assert torch.equal(x, x_before), "forward or backward modified its input in place"
    assert torch.equal(grad_output, grad_before), "backward modified grad_output in place"
    assert output.shape == output_ref.shape and input_grad.shape == x.shape
    return Differences(
        output=(output - output_ref).abs().max().item(),
        input_grad=(input_grad - input_grad_ref).abs().max().item(),
        parameter_grads=tuple(
            (grad - ref).abs().max().item()
            for (_, grad), ref in zip(ours.param(), parameter_grads_ref, strict=True)
        ),
    )


def float32_error_ratio(make_ours, make_theirs, x64: torch.Tensor) -> float:
    """Our float32 error / torch's float32 error, both measured against torch in float64 (largest
    absolute difference over output and all gradients; torch's error floored at float32 ε · scale).
    `make_ours(dtype)` / `make_theirs(dtype)` build the two blocks; all four share ours64's parameters,
    drawn from seed 0 (so the ratio of a case does not depend on which tests ran before it)."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        ours64, theirs64, ours32, theirs32 = (
            make_ours(torch.float64),
            make_theirs(torch.float64),
            make_ours(torch.float32),
            make_theirs(torch.float32),
        )
    copy_parameters(ours64, theirs64)
    copy_parameters(ours64, theirs32)
    with torch.no_grad():
        for (mine, _), (source, _) in zip(ours32.param(), ours64.param(), strict=True):
            mine.copy_(source)
    *reference, grad_output64 = torch_run(theirs64, x64)
    x32, grad32 = x64.float(), grad_output64.float()
    *torch_values, _ = torch_run(theirs32, x32, grad32)
    with torch.no_grad():
        ours32.zero_grad()
        our_values = [ours32.forward(x32), ours32.backward(grad32), [g for _, g in ours32.param()]]
    reference, torch_values, our_values = (_flatten(v) for v in (reference, torch_values, our_values))
    ours_error = _largest_difference(our_values, reference)
    torch_error = _largest_difference(torch_values, reference)
    scale = max(ref.abs().max().item() for ref in reference)
    if ours_error == 0:
        return 0.0
    return ours_error / max(torch_error, torch.finfo(torch.float32).eps * scale)


def _flatten(run) -> list:
    output, input_grad, parameter_grads = run
    return [output, input_grad, *parameter_grads]


def _largest_difference(values: list, reference: list) -> float:
    return max((v.double() - r).abs().max().item() for v, r in zip(values, reference, strict=True))


def one_thread():
    """Generator for a module-scoped fixture: torch on one thread for the module, then restored. These
    tests run thousands of tiny float64 operations, which a second OpenMP thread only slows down (and
    much more so on a shared machine)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
