"""Infrastructure: the Numba flags, block summation, array copies and the serial/parallel dispatch rule."""
