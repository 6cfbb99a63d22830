"""Where Backstage's own example catalog files are: ../shared/compat/backstage-examples beside the checkout
(as on the developers' and CI machines), or MERIDIAN_BACKSTAGE_EXAMPLES.

A laptop's fresh clone has no such folder, so the tests that read it are skipped there; under CI
(CI=true) they are never skipped, so a missing folder fails the run instead of hiding."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = Path(
    os.environ.get("MERIDIAN_BACKSTAGE_EXAMPLES", ROOT.parent / "shared" / "compat" / "backstage-examples")
).resolve()

needs_backstage_examples = pytest.mark.skipif(
    not EXAMPLES.is_dir() and os.environ.get("CI") != "true",
    reason=f"Backstage's example files are not at {EXAMPLES} (set MERIDIAN_BACKSTAGE_EXAMPLES)",
)
