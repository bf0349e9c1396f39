"""Array kernels: reductions and gradients over whole arrays, no validation."""
