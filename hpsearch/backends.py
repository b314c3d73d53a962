"""The names of the backends a trial can run on (``hpsearch.runner`` runs them); here so that
the config's rules can check a name without importing the runner."""

# loky: processes' old name; joblib: any backend of joblib.parallel_config (run.joblib_backend)
BACKENDS = ("processes", "threading", "sequential", "dask", "loky", "joblib")
