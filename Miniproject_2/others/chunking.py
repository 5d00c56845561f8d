"""Cache blocking over the batch: a large intermediate matrix made and consumed a few images at a time.

A convolution's backward (and the scatter form of a sub-pixel convolution's forward) writes a matrix that
is several times larger than its input, then reads it back with strided adds or copies. Made for the
whole batch at once, that matrix leaves the core's cache before it is read; made for a chunk of images,
it is read while it is still there, and the buffer is reused by every chunk.
"""

CHUNK_NUMBERS = 1 << 20
"""Numbers (4 MiB of float32) of such a matrix made at once. Measured on the Model's network at batch 128
on one thread, the training step is about 10% faster than with whole-batch matrices; a quarter of this
was slower with two threads (smaller matmuls)."""


def chunk_images(n: int, numbers_per_image: int) -> int:
    """Images per chunk (at least 1, at most n) whose matrix holds at most `CHUNK_NUMBERS` numbers."""
    return max(1, min(n, CHUNK_NUMBERS // numbers_per_image))


def image_chunks(n: int, size: int) -> list:
    """[(start, stop)] consecutive ranges of `size` images covering n (the last one may be shorter)."""
    return [(start, min(n, start + size)) for start in range(0, n, size)]
