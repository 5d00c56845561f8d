"""The `blocks.*` checks: every framework block against torch.nn + autograd (see `judge`)."""
