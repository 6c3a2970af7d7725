"""``python -m gatepass``: the ``gatepass`` command (``core``, ``fauna-dev``, ``demo``) without the console script."""

from gatepass.cli import main

raise SystemExit(main())
