"""clearslate: bulk clearance of criminal records, explained and reproducible."""

__version__ = "0.1.0"
