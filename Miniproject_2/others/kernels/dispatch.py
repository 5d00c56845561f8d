"""The one place that picks how a convolution is computed, from its geometry alone."""

from dataclasses import replace

from .conv import Im2colConv
from .depth_to_space import DepthToSpace
from .geometry import ConvGeometry
from .kernel import Kernel
from .nearest import UpsampledConv
from .sub_pixel import NEAREST_3X3_ROWS, TRANSPOSED_4X4_ROWS, SubPixelConv
from .transposed import Col2imTransposed


def select(geometry: ConvGeometry) -> Kernel:
    """The fastest kernel that computes `geometry` exactly:

    - nearest ×2 then 3×3, padding 1, stride 1 (`Upsampling`'s common case) and transposed 4×4, stride 2,
      padding 1: `SubPixelConv`, four 2×2 convolutions at the input's resolution;
    - transposed with kernel equal to the stride and no padding: `DepthToSpace`, one matmul and one copy;
    - any other transposed convolution: `Col2imTransposed`; any other upsampling: `UpsampledConv`;
      any other convolution: `Im2colConv`.

    The fast paths need dilation 1, one group and no output padding.
    """
    plain = geometry.dilation == (1, 1) and geometry.groups == 1 and geometry.output_padding == (0, 0)
    size, stride, pads = geometry.kernel_size, geometry.stride, geometry.pads
    if geometry.nearest_scale is not None:
        if (
            plain
            and geometry.nearest_scale == (2.0, 2.0)
            and size == (3, 3)
            and pads == (1, 1, 1, 1)
            and stride == (1, 1)
        ):
            return SubPixelConv(geometry, NEAREST_3X3_ROWS, weight_is_out_in=True)
        return UpsampledConv(geometry, select(replace(geometry, nearest_scale=None)))
    if geometry.transposed:
        if plain and size == (4, 4) and stride == (2, 2) and pads == (1, 1, 1, 1):
            return SubPixelConv(geometry, TRANSPOSED_4X4_ROWS, weight_is_out_in=False)
        if plain and size == stride and pads == (0, 0, 0, 0):
            return DepthToSpace(geometry)
        return Col2imTransposed(geometry)
    return Im2colConv(geometry)
