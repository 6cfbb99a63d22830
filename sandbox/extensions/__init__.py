"""What the sandbox adds to moto: one module per API that moto 5.2.5 lacks or gets wrong.

The portal calls the real AWS APIs; where moto cannot answer one, an extension
patches moto in the sandbox's own process, so the same boto3 call works against
the sandbox server and under `mock_aws` in tests. `install()` is idempotent: the
sandbox server calls it at start, and tests call it (through `sandbox.testing`)
before they use `mock_aws` or the in-process server.

How to add an extension:

1. Write `sandbox/extensions/<name>.py` with a module docstring that says what
   moto gets wrong and what the extension answers instead, and a function
   `install() -> None` that applies the patch. It runs once per process, so it
   need not guard itself, but it must only change moto (never the portal).
   Prefer adding a method to a moto `BaseResponse` subclass (moto dispatches an
   action to the method named after it, e.g. `lookup_events` for LookupEvents) or
   wrapping one moto function, over copying moto code. Keep state that moto
   should forget on reset in a `moto.core.base_backend.BackendDict`, as moto's
   own backends do: `mock_aws` and `/moto-api/reset` then clear it too.
2. Add its dotted path to `EXTENSIONS` below.
3. Test it in `tests/sandbox/` with boto3 calls, as a client would, against the
   in-process server (`sandbox_endpoint` fixture) or under `mock_aws`.
"""

import importlib
import threading

EXTENSIONS: tuple[str, ...] = (
    "sandbox.extensions.cloudtrail_events",
    "sandbox.extensions.cloudwatch",
    "sandbox.extensions.lambda_outcomes",
    "sandbox.extensions.tagging_gaps",
    "sandbox.extensions.xray_graphs",
)

_installed: list[str] = []
_lock = threading.Lock()


def install() -> tuple[str, ...]:
    """Install every registered extension not installed yet in this process; return the installed ones."""
    with _lock:
        for path in EXTENSIONS:
            if path not in _installed:
                importlib.import_module(path).install()
                _installed.append(path)
        return tuple(_installed)


def installed() -> tuple[str, ...]:
    return tuple(_installed)
