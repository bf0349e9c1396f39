"""Infrastructure: the Numba flags, block summation and the serial/parallel dispatch rule."""
