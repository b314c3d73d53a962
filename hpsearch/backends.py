"""The names of the backends a trial can run on (``hpsearch.runner`` runs them); here so that
the config's rules can check a name without importing the runner."""

BACKENDS = ("processes", "threading", "sequential", "dask", "loky")  # loky: processes' old name
