"""hpsearch: random hyperparameter search on the right scales, coarse-to-fine."""

__version__ = "0.1.0"
