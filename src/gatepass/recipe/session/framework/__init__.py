"""Framework adapters: each turns its framework's request into a ``RequestView`` and applies ``ResponseChanges``."""
