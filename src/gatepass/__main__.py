"""``python -m gatepass``: the ``gatepass`` command (``core``, ``fauna-dev``, ``demo``) without the console script."""

from gatepass.cli import main

if __name__ == "__main__":  # importing the module (a walk over the package) runs nothing
    raise SystemExit(main())
