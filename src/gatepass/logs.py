"""How every gatepass command logs: one format, to stderr, at the level it is given."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str) -> None:
    """Log at ``level`` (debug, info, warning, error) to stderr, as ``time LEVEL logger: message``."""
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
