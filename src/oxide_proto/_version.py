"""The version of oxide, read by the build backend and by `User-Agent`: defined only here."""

__version__ = "0.1.0"
