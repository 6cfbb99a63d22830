"""Where Backstage's own example catalog files are: ../shared/compat/backstage-examples beside the checkout
(as on the developers' and CI machines), or MERIDIAN_BACKSTAGE_EXAMPLES.

A laptop's fresh clone has no such folder, so the tests that read it are skipped there; under CI
(CI=true) a missing folder fails them with a message saying so, rather than hiding them."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = Path(
    os.environ.get("MERIDIAN_BACKSTAGE_EXAMPLES", ROOT.parent / "shared" / "compat" / "backstage-examples")
).resolve()

needs_backstage_examples = pytest.mark.usefixtures("backstage_examples")


@pytest.fixture
def backstage_examples() -> Path:
    if EXAMPLES.is_dir():
        return EXAMPLES
    message = f"Backstage's example files are not at {EXAMPLES} (set MERIDIAN_BACKSTAGE_EXAMPLES)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + ": CI must have shared/ beside the checkout", pytrace=False)
    pytest.skip(message)
