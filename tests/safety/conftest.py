from tests.channels.conftest import make_client  # noqa: F401  (the gateway fixture, shared)
