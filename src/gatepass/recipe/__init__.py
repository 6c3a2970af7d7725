"""Backend SDK recipes (SuperTokens naming): ``session``, and on top of it ``session.faunadb``."""
