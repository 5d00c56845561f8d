"""What a kernel needs to know about its convolution: the block's arguments, parsed once."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ConvGeometry:
    """A convolution's arguments with every geometric one a (height, width) pair.

    `pads` is (top, bottom, left, right): the zero padding of the input of a convolution, or the crop of
    the output of a transposed one (then (p_h, p_h, p_w, p_w)). `nearest_scale` is the factor of a
    nearest upsampling applied to the input first (`Upsampling`), None for none.
    """

    in_channels: int
    out_channels: int
    kernel_size: tuple
    stride: tuple
    dilation: tuple
    groups: int
    pads: tuple
    transposed: bool = False
    output_padding: tuple = (0, 0)
    nearest_scale: tuple | None = None

    @property
    def padding(self) -> tuple:
        """(top, left) padding: a transposed convolution's symmetric (p_h, p_w)."""
        return self.pads[0], self.pads[2]

    def output_size(self, height: int, width: int) -> tuple:
        """Conv: ⌊(H + p_top + p_bottom − d·(k − 1) − 1)/s⌋ + 1; transposed: (H − 1)·s − 2p + d·(k − 1) +
        output_padding + 1 (per axis; the input is taken as already upsampled)."""
        (pt, pb, pl, pr), sizes = self.pads, []
        axes = zip(
            (height, width),
            self.kernel_size,
            self.stride,
            self.dilation,
            ((pt, pb), (pl, pr)),
            self.output_padding,
            strict=True,
        )
        for size, k, s, d, (before, after), op in axes:
            if self.transposed:
                sizes.append((size - 1) * s - before - after + d * (k - 1) + op + 1)
            else:
                sizes.append((size + before + after - d * (k - 1) - 1) // s + 1)
        return tuple(sizes)

    def checked_output_size(self, height: int, width: int) -> tuple:
        """`output_size`, or a ValueError when it is empty (an input smaller than the dilated kernel)."""
        ho, wo = self.output_size(height, width)
        if ho < 1 or wo < 1:
            raise ValueError(f"input {height}x{width} gives an empty {ho}x{wo} output")
        return ho, wo
