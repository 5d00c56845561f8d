"""The from-scratch framework: one module per block (`conv`, `transpose_conv`, `upsampling`, …) over the
kernel layer `kernels` that computes them, and `training`, how the Model trains; built on tensor methods,
`empty`, `cat` and the standard library."""
