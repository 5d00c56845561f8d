"""The images outside the model (0–255, uint8 or float, any size) and inside it ([0, 1] float32 on the
model's device, sizes a multiple of the network's downscaling)."""

from torch import cat


def to_unit_range(images, device: str):
    """A batch of 0–255 images (uint8 or float) as float32 on `device`, scaled to [0, 1]."""
    return images.to(device).float().div(255.0)


def pad_to_multiple(images, multiple: int):
    """`images` (N×C×H×W) extended at the bottom and right by mirrored rows and columns so that H and W
    become multiples of `multiple`; the mirror repeats edge pixels (`…, c, b, a | a, b, c, …`)."""
    height, width = images.shape[2], images.shape[3]
    extra_rows = -height % multiple
    extra_columns = -width % multiple
    if extra_rows:
        mirrored = images.flip(2)
        while mirrored.shape[2] < extra_rows:
            mirrored = cat([mirrored, mirrored.flip(2)], 2)
        images = cat([images, mirrored[:, :, :extra_rows]], 2)
    if extra_columns:
        mirrored = images.flip(3)
        while mirrored.shape[3] < extra_columns:
            mirrored = cat([mirrored, mirrored.flip(3)], 3)
        images = cat([images, mirrored[:, :, :, :extra_columns]], 3)
    return images
