"""Data augmentation by the eight symmetries of the square, and their inverses (the self-ensemble)."""

DIHEDRAL_TRANSFORMS = 8
"""The eight symmetries of a square: 0–3 quarter turns, each optionally mirrored (4–7)."""


def apply_transform(images, transform: int):
    """`images` (N×C×H×W) turned by `transform % 4` quarter turns, then mirrored left-right when
    `transform >= 4`: the eight symmetries of the square."""
    turned = images.rot90(transform % 4, (2, 3))
    return turned.flip(3) if transform >= 4 else turned


def undo_transform(images, transform: int):
    """The inverse of `apply_transform(·, transform)`: mirror back first, then turn back."""
    mirrored = images.flip(3) if transform >= 4 else images
    return mirrored.rot90(-(transform % 4), (2, 3))
