"""ctrtui: a terminal UI and command line for Linux control groups."""

__version__ = "0.1.0"
