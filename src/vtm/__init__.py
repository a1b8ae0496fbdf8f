"""VTM: a training run manager for ML (vision) teams."""

__version__ = "0.1.0"
