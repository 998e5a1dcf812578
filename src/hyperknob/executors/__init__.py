"""Running workers on an existing cluster engine (Dask); workers meet only through the storage."""
