"""The from-scratch framework: one module per block, built on tensor methods, `fold`/`unfold` and `empty`."""
