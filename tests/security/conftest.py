from tests.core.conftest import app_config, client, clock, runtime  # noqa: F401  (shared fixtures)
