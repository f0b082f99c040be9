from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.stack import Stack

ADMIN_TOKEN = "e2e-admin-token-0123456789"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real action server, Rasa server and gateway, on free ports, shared by the e2e tests."""
    running = Stack(tmp_path_factory.mktemp("stack"), extra_env={"TONGXIN_ADMIN_TOKEN": ADMIN_TOKEN})
    try:
        running.start()
        yield running
    finally:
        running.stop_all()
