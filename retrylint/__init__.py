"""retrylint: a static analyzer and policy linter for background-task retry configuration."""

__version__ = "0.1.0"
