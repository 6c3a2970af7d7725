"""``gatepass demo``: the "Using with FaunaDB" guide's six steps, running end to end in a browser."""
