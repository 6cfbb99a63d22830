"""The embedded AWS: moto's server on loopback, configured and extended for the portal.

Two ways to run it:

- its own process, `python manage.py sandbox_server` (what `make run` starts);
- in-process, for tests: `with SandboxServer() as endpoint_url: ...` or
  `running_sandbox()` (port 0 picks a free port), or the `sandbox.testing` fixtures.

Clients reach it with any credentials: unknown access keys act in moto's default
account 123456789012; keys from `sts:AssumeRole` act in the role's account.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOOPBACK = "127.0.0.1"


class PortInUseError(RuntimeError):
    def __init__(self, port: int):
        self.port = port
        super().__init__(
            f"Port {port} on {LOOPBACK} is already in use, so the AWS sandbox cannot start there. "
            f"Stop the program listening on it (a sandbox left running?), or choose another port: "
            f"set SANDBOX_PORT (e.g. SANDBOX_PORT={port + 1}) or pass --port."
        )


def _moto_config(port: int) -> dict[str, Any]:
    """What the sandbox changes in moto's process-wide configuration, as {setting: value}."""
    return {
        # Lambda functions run without Docker (moto's "simple" backend answers Invoke).
        "lambda.use_docker": False,
        # Step Functions executions really run their states instead of staying a stub.
        "stepfunctions.execute_state_machine": True,
        # The Step Functions interpreter calls the services of a state through
        # http://localhost:$MOTO_PORT when it runs in a server.
        "env.MOTO_PORT": str(port),
    }


@contextmanager
def moto_configured(port: int) -> Iterator[None]:
    """Apply the sandbox's moto configuration and its extensions; restore moto's configuration on exit."""
    from moto.core.config import default_user_config

    from sandbox import extensions

    extensions.install()
    saved: list[tuple[str, Any]] = []
    for key, value in _moto_config(port).items():
        scope, name = key.split(".", 1)
        if scope == "env":
            saved.append((key, os.environ.get(name)))
            os.environ[name] = value
        else:
            section = default_user_config.setdefault(scope, {})  # type: ignore[misc]
            saved.append((key, section.get(name)))
            section[name] = value  # type: ignore[literal-required]
    try:
        yield
    finally:
        for key, previous in reversed(saved):
            scope, name = key.split(".", 1)
            if scope == "env":
                if previous is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = previous
            else:
                default_user_config[scope][name] = previous  # type: ignore[literal-required]


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(port) from None
        raise
    return sock


class SandboxServer:
    """moto's server on 127.0.0.1:`port` (0 picks a free port), serving from a background thread."""

    def __init__(self, port: int = 0):
        self.requested_port = port
        self.port: int | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._config: Any = None

    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the sandbox server is not running")
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> str:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        # Bind first, ourselves: werkzeug reports a busy port by exiting the process.
        sock = _bind(self.requested_port)
        self.port = sock.getsockname()[1]
        self._config = moto_configured(self.port)
        self._config.__enter__()
        # One line a request is noise next to the portal's own logs.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # The Step Functions interpreter logs every failed state (and every IsPresent test of a missing
        # path) as an ERROR; a saga's failures are its business and stay in the execution's history.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        try:
            self._server = make_server(
                LOOPBACK,
                self.port,
                DomainDispatcherApplication(create_backend_app),
                threaded=True,
                request_handler=MotoRequestHandler,
                fd=sock.fileno(),
            )
        except BaseException:
            self._config.__exit__(None, None, None)
            raise
        finally:
            sock.close()  # the server holds its own duplicate of the socket
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-sandbox", daemon=True)
        self._thread.start()
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._config is not None:
            self._config.__exit__(None, None, None)
            self._config = None
        self.port = None

    def wait(self) -> None:
        """Block until the server stops."""
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextmanager
def running_sandbox(port: int = 0, *, seed: bool = False) -> Iterator[str]:
    """Run the sandbox in this process for the duration of the block; yield its endpoint URL."""
    with SandboxServer(port) as endpoint_url:
        if seed:
            from sandbox.seed import seed_estate

            seed_estate(endpoint_url)
        yield endpoint_url


def reset() -> None:
    """Forget every resource and recorded event, as `mock_aws` does when it starts."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
