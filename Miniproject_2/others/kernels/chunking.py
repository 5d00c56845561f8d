"""Cache blocking over the batch: a large intermediate matrix made and consumed a few images at a time.

A convolution's backward (and the scatter form of a sub-pixel convolution's forward) writes a matrix that
is several times larger than its input, then reads it back with strided adds or copies. Made for the
whole batch at once, that matrix leaves the core's cache before it is read; made for a chunk of images,
it is read while it is still there, and the buffer is reused by every chunk.
"""

CHUNK_NUMBERS = 1 << 21
"""Numbers (8 MiB of float32) of such a matrix made at once. Measured on the Model's 96→48 transposed
layer (forward + backward, against torch, interleaved): at batch 128 chunks of this size beat the whole
batch by 13% on one thread and 8% on two; a smaller chunk (4 MiB, so two at batch 32) was 10% slower on
two threads at batch 32, where the smaller matmuls parallelise worse. The smallest batch that is split
is 43 images for that layer's P and G, and 76 for the 48→96 convolution's dL/dcols."""


GEMM_CHUNK_NUMBERS = 1 << 18
"""Numbers (1 MiB of float32, the L2 of one core of the AMD EPYC of the README) of a convolution's column
matrix gathered and multiplied at once in its forward, so the matmul reads what im2col has just written
from cache. Measured on that CPU, one thread, batch 128 (forward + backward, interleaved): the 48→96
layer 0.92-0.94× and the 3→48 layer 0.83-0.86× of one whole-batch gather and matmul for chunks of 2^17
or 2^18 numbers, 0.92-0.97× for 2^16; the training step 0.98-1.02×, within the run-to-run noise."""


def chunk_images(n: int, numbers_per_image: int, budget: int = CHUNK_NUMBERS) -> int:
    """Images per chunk (at least 1, at most n) whose matrix holds at most `budget` numbers."""
    return max(1, min(n, budget // numbers_per_image))


def image_chunks(n: int, size: int) -> list:
    """[(start, stop)] consecutive ranges of `size` images covering n (the last one may be shorter)."""
    return [(start, min(n, start + size)) for start in range(0, n, size)]
