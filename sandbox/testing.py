"""pytest fixtures for the sandbox: `pytest_plugins = ["sandbox.testing"]` in the top-level conftest.

Loading the plugin installs the sandbox's extensions, so tests that use
`mock_aws` see the same APIs as the sandbox server (CloudTrail LookupEvents...).
"""

from collections.abc import Iterator

import pytest

from sandbox import extensions
from sandbox.seed import seed_estate
from sandbox.server import SandboxServer, reset

extensions.install()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """The sandbox server, in this process on a free port, for the whole session."""
    server = SandboxServer(port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox_endpoint(sandbox_server: SandboxServer) -> str:
    """An empty sandbox: moto forgets everything (as `mock_aws` does) before each test."""
    reset()
    return sandbox_server.endpoint_url


@pytest.fixture
def sandbox_estate(sandbox_endpoint: str) -> str:
    """A sandbox holding the seeded demo estate; its endpoint URL."""
    seed_estate(sandbox_endpoint)
    return sandbox_endpoint
