"""Tokens and keys: access tokens (JWS), refresh tokens, signing keys and their schedule. Pure; no I/O."""
