"""`make run`: the whole portal on one machine, with no AWS account and no servers to install.

The sandbox's command, not the portal's: it knows the sandbox server, the demo estate's accounts and its
catalog files, and the portal knows none of them (in production the sandbox is not installed at all).

Starts the embedded AWS sandbox, migrates, creates the demo users and AWS
accounts, then runs a Celery worker, Celery beat, gunicorn and the demo
estate's traffic generator, each as a child process with its output prefixed.
Ctrl-C (or SIGTERM) stops every child.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.estate import CATALOG_DIR

SANDBOX_READY = "sandbox ready on "
STOP_GRACE_SECONDS = 10

# The demo estate's accounts (see sandbox/estate/): the portal's own account, and a
# second one reached by assuming a read-only role, as a real multi-account setup would be.
DEMO_AWS_ACCOUNTS = (
    "meridian-prod:123456789012:::eu-west-1|us-east-1,"
    "meridian-payments:210987654321:arn:aws:iam::210987654321:role/MeridianReadOnly:meridian-demo:eu-west-1|us-east-1"
)


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # the same orderly stop as Ctrl-C


class Child:
    """A child process whose output is relayed line by line with a name in front."""

    def __init__(self, name: str, argv: list[str], env: dict, out):
        self.name = name
        self.out = out
        self.ready = threading.Event()
        # Its own session, so that Ctrl-C reaches only us and we stop the children in order.
        self.process = subprocess.Popen(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.thread = threading.Thread(target=self._relay, daemon=True)
        self.thread.start()

    def _relay(self):
        for line in self.process.stdout:
            if line.startswith(SANDBOX_READY):
                self.ready.set()
            self.out.write(f"[{self.name:7}] {line}")
            self.out.flush()

    def stop(self):
        # To the main process only: Celery and gunicorn then stop their own workers in order.
        if self.process.poll() is None:
            self.process.terminate()

    def kill(self):
        """Whatever is left of the child and anything it started."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


class Command(BaseCommand):
    help = "Run Meridian locally against the embedded AWS sandbox (what `make run` does)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="web server port (default 8000)")
        parser.add_argument("--sandbox-port", type=int, default=settings.SANDBOX_PORT)

    def handle(self, *args, port, sandbox_port, **options):
        if port == sandbox_port:
            raise CommandError(
                f"That would put the web server and the AWS sandbox both on port {port}: "
                "choose another with PORT=<port> (make run PORT=8100) or SANDBOX_PORT=<port>."
            )
        for wanted, what, how in (
            (port, "the web server", "PORT=<port> (make run PORT=8100) or --port"),
            (sandbox_port, "the AWS sandbox", "SANDBOX_PORT=<port> (make run SANDBOX_PORT=5056) or --sandbox-port"),
        ):
            if not _port_is_free(wanted):
                raise CommandError(
                    f"Port {wanted} for {what} is already in use (is another `make run` running?). "
                    f"Stop that process or choose another port with {how}."
                )
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        env = self._child_env(sandbox_port)
        self.children: list[Child] = []
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
        # Ctrl-C stops everything even when started from a shell that ignores SIGINT for background jobs.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        started = time.monotonic()
        try:
            sandbox = self._start("sandbox", [*manage, "sandbox_server", "--port", str(sandbox_port)], env)
            self._run("migrate", [*manage, "migrate", "--no-input"], env)
            if not self._wait_ready(sandbox, timeout=90):
                raise CommandError("The AWS sandbox did not become ready; see its output above.")
            self._run("setup", [*manage, "aws_accounts_sync"], env)
            users = self._run("setup", [*manage, "demo_users"], env, echo=False)
            self._run("setup", [*manage, "catalog_import", str(CATALOG_DIR), "-v", "0"], env)
            celery = [sys.executable, "-m", "celery", "-A", "portal"]
            self._start("worker", [*celery, "worker", "-l", "INFO", "--concurrency", "2", "--without-gossip",
                                   "--without-mingle"], env)  # fmt: skip
            # The periodic work once now, so the demo opens verified, discovered and scored.
            self._run("setup", [*manage, "schedules_run"], env)
            self._start("beat", [*celery, "beat", "-l", "INFO", "-s", str(settings.VAR_DIR / "celerybeat")], env)
            self._start("web", [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}",
                                "--workers", "2", "--threads", "4", "--timeout", "60"], env)  # fmt: skip
            if not self._wait_listening(port, timeout=60):
                raise CommandError(f"The web server did not start listening on port {port}; see its output above.")
            # The demo estate's traffic, once the portal is up: it puts the last minute at once, then a week
            # of history in the background (it logs when that is done), then a minute every minute.
            self._start("traffic", [*manage, "sandbox_traffic", "--endpoint-url", env["AWS_ENDPOINT_URL"]], env)
            self.stdout.write(
                "\n"
                + users
                + f"\nMeridian is running at http://127.0.0.1:{port} "
                + f"(AWS sandbox at http://127.0.0.1:{sandbox_port}; started in {time.monotonic() - started:.0f} s)."
                + "\nPress Ctrl-C to stop everything.\n"
            )
            self._watch()
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            self._stop_all()

    def _child_env(self, sandbox_port: int) -> dict:
        env = dict(os.environ)
        env.update(
            {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{sandbox_port}",
                # The sandbox accepts any credentials; these never leave the machine.
                "AWS_ACCESS_KEY_ID": "sandbox",
                "AWS_SECRET_ACCESS_KEY": "sandbox",
                "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "eu-west-1"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        env.setdefault("AWS_ACCOUNTS", DEMO_AWS_ACCOUNTS)
        # People read this terminal; JSON logs stay the default everywhere else.
        env.setdefault("LOG_FORMAT", "text")
        # The demo runs like production where people see it: the project's 404 and 500 pages, not Django's
        # technical ones listing the URL patterns; tracebacks go to this terminal. DEBUG=true make run for those.
        env.setdefault("DEBUG", "false")
        return env

    def _start(self, name: str, argv: list[str], env: dict) -> Child:
        child = Child(name, argv, env, self.stdout)
        self.children.append(child)
        return child

    def _run(self, name: str, argv: list[str], env: dict, *, echo: bool = True) -> str:
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if echo:
            for line in (result.stdout + result.stderr).splitlines():
                self.stdout.write(f"[{name:7}] {line}")
        if result.returncode != 0:
            raise CommandError(f"`{' '.join(argv[1:3])}` failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def _wait_ready(self, child: Child, *, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.ready.wait(0.2):
                return True
            if child.process.poll() is not None:
                return False
        return False

    def _wait_listening(self, port: int, *, timeout: float) -> bool:
        """The banner promises a URL that answers, so wait until the web server accepts connections."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(child.process.poll() is not None for child in self.children):
                return False
            with socket.socket() as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return True
            time.sleep(0.2)
        return False

    def _watch(self):
        while True:
            for child in self.children:
                if child.process.poll() is not None:
                    raise CommandError(f"{child.name} exited with status {child.process.returncode}; stopping.")
            time.sleep(0.5)

    def _stop_all(self):
        # The sandbox's clients first (web, worker, beat, traffic generator, all at once), then the sandbox: a
        # client finishes what it is sending instead of failing on a sandbox that has gone.
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        sandbox = [child for child in self.children if child.name == "sandbox"]
        for group in ([child for child in self.children if child not in sandbox], sandbox):
            for child in group:
                child.stop()
            for child in group:
                try:
                    child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    self.stdout.write(f"{child.name} did not stop in {STOP_GRACE_SECONDS} s; killing it.")
                child.kill()
        self.stdout.write("Stopped.")
