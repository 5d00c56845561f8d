"""2-D convolution (cross-correlation), PyTorch's `nn.Conv2d`, as one im2col and one matmul per group."""

from .conv_base import ConvBase
from .im2col import col2im, im2col, nchw, nhwc, padded

_SMALL_INPUT = 20480


class Conv2d(ConvBase):
    """`Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
    bias=True)`; padding is an int, a pair, 'valid' or 'same' (stride 1).

    Shapes: x (N, C_in, H, W) -> y (N, C_out, Ho, Wo), Ho = ⌊(H + p_top + p_bottom − d·(k − 1) − 1)/s⌋ + 1.
    Forward:  Y = cols · Wg + b per group g, cols = im2col(pad(x)) of shape (N·Ho·Wo, kh·kw·C_in/G).
    Backward: dL/dWg = colsᵀ · dY;  dL/db = Σ_{n,y,x} dY;  dL/dx = crop(col2im(dY · Wgᵀ)).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            False,
            device,
            dtype,
        )

    def output_size(self, height: int, width: int) -> tuple:
        pt, pb, pl, pr = self.pads
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.stride, self.dilation
        return (height + pt + pb - dh * (kh - 1) - 1) // sh + 1, (
            width + pl + pr - dw * (kw - 1) - 1
        ) // sw + 1

    def _weight_matrix(self):
        """weight (C_out, C_in/G, kh, kw) -> (G, kh·kw·C_in/G, C_out/G), rows ordered like the columns."""
        g, (kh, kw) = self.groups, self.kernel_size
        out_g = self.out_channels // g
        per_group = self.weight.view(g, out_g, -1, kh, kw)
        if self._channel_major:
            return per_group.reshape(g, out_g, -1).transpose(1, 2)
        return per_group.permute(0, 3, 4, 2, 1).reshape(g, -1, out_g)

    def _weight_gradient(self, grad_weights):
        """(G, kh·kw·C_in/G, C_out/G) column-space gradient -> weight's shape (C_out, C_in/G, kh, kw)."""
        g, (kh, kw) = self.groups, self.kernel_size
        out_g = self.out_channels // g
        if self._channel_major:
            return grad_weights.transpose(1, 2).reshape(self.weight.shape)
        return grad_weights.view(g, kh, kw, -1, out_g).permute(0, 4, 3, 1, 2).reshape(self.weight.shape)

    def forward(self, x):
        n, c, h, w = x.shape
        if c != self.in_channels:
            raise ValueError(f"Conv2d expects {self.in_channels} input channels, got {c}")
        ho, wo = self.output_size(h, w)
        if ho < 1 or wo < 1:
            raise ValueError(f"input {h}x{w} is smaller than the (dilated) kernel")
        # Small inputs (PyTorch's own threshold for its reference kernel) use PyTorch's column order.
        self._channel_major = x.numel() <= _SMALL_INPUT
        self._cols = im2col(
            padded(nhwc(x), *self.pads),
            self.groups,
            self.kernel_size,
            self.stride,
            self.dilation,
            (ho, wo),
            self._channel_major,
        )
        self._weights = self._weight_matrix()
        self._input_hw, self._output_hw = (h, w), (ho, wo)
        if self.groups == 1:
            cols, weights = self._cols[0], self._weights[0]
            out = cols.matmul(weights) if self.bias is None else self.bias.addmm(cols, weights)
        else:
            out = self._cols.bmm(self._weights).permute(1, 0, 2).reshape(n * ho * wo, self.out_channels)
            if self.bias is not None:
                out += self.bias
        return nchw(out.view(n, ho, wo, self.out_channels))

    def backward(self, grad_output):
        g = self.groups
        n = grad_output.shape[0]
        (h, w), (ho, wo) = self._input_hw, self._output_hw
        grad = nhwc(grad_output).reshape(n * ho * wo, g, self.out_channels // g).permute(1, 0, 2)
        grad_weights = self._cols.transpose(1, 2).bmm(grad)
        self._accumulate("weight", self._weight_gradient(grad_weights))
        if self.bias is not None:
            self._accumulate("bias", grad.sum(1))
        pt, pb, pl, pr = self.pads
        grad_input = grad.new_zeros((n, h + pt + pb, w + pl + pr, self.in_channels))
        col2im(
            grad.bmm(self._weights.transpose(1, 2)),
            grad_input,
            self.kernel_size,
            self.stride,
            self.dilation,
            (ho, wo),
            self._channel_major,
        )
        return nchw(grad_input[:, pt : pt + h, pl : pl + w])
