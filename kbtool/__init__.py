"""kbtool: stunting analysis for Indonesian posyandu registers (WHO Child Growth Standards 2006)."""

# The one place the version is written: pyproject.toml reads it from here. (Asking
# importlib.metadata instead costs every command ~50 ms of imports.)
__version__ = "0.1.0"

__all__ = ["__version__"]
