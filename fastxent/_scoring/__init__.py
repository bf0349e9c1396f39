"""The scoring engine: files read in row blocks, and ``dask.array`` inputs."""
