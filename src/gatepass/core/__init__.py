"""The session core: session logic (``sessions``), signing keys (``keyring``) and the CDI HTTP app."""
