"""The package's version, apart from everything else so any module can name it."""

__version__ = "0.2.0"
