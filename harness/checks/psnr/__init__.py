"""The `psnr.*` checks: the pretrained model's PSNR on the val set, and whether training improves it."""
