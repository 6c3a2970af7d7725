"""gatepass: a SuperTokens-compatible session system in Python."""

__version__ = "0.1.0"
