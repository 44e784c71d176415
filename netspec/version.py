"""netspec's version, for the package, generated headers, reports and the language server."""

__version__ = "0.1.0"
