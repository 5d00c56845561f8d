"""How MKL's matrix products are fed fast: the order of Aᵀ·B over a long shared dimension, and the row
length of a wide matrix of few rows."""


def transposed_matmul(a, b):
    """Aᵀ · B for A (M, P) and B (M, Q) with M long (a sum over pixels, as in every weight gradient).

    Computed as (Bᵀ · A)ᵀ when P > Q: measured with MKL on one thread, the Aᵀ·B kernel is 3-10× slower
    when its result has more rows than columns (e.g. M = 32768, P = 128, Q = 3: 10 ms against 0.7 ms).
    """
    if a.shape[-1] > b.shape[-1]:
        return b.transpose(-2, -1).matmul(a).transpose(-2, -1)
    return a.transpose(-2, -1).matmul(b)


def unaliased_row_length(columns: int) -> int:
    """The row stride for a kept (rows, `columns`) matrix of few rows and many columns: one cache line (16
    floats) longer when `columns` is a multiple of 1024, whose rows would all start on the same cache sets.

    Measured with MKL on one thread (AMD EPYC): dL/dx of the sub-pixel scatter, a (32768 × 48) product read
    from such a matrix transposed, 8.4 ms with rows of 32768 numbers and 6.5 ms with rows of 32784.
    """
    return columns + 16 if columns % 1024 == 0 else columns
