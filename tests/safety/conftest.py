from pathlib import Path

import pytest

from channels.safety.screen import SafetyScreen, load_screen
from tests.channels.conftest import make_client  # noqa: F401  (the gateway fixture, shared)

ENCODER = Path(__file__).resolve().parents[2] / ".build" / "encoder" / "m3e-small"


@pytest.fixture(scope="session")
def safety_screen() -> SafetyScreen:
    """The whole screen: lexicon, learned model (with the exported encoder, `make build`) and context."""
    return load_screen(ENCODER)
