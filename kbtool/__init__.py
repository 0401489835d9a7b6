"""kbtool: stunting analysis for Indonesian posyandu registers (WHO Child Growth Standards 2006)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kbtool")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
