"""`python manage.py sandbox_server`: the embedded AWS in the foreground, until SIGINT or SIGTERM."""

import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.server import PortInUseError, SandboxServer


class Command(BaseCommand):
    help = "Run the embedded AWS sandbox (moto plus Meridian's extensions) on 127.0.0.1 and seed the demo estate."

    def add_arguments(self, parser):
        parser.add_argument(
            "--port", type=int, default=settings.SANDBOX_PORT, help="default: SANDBOX_PORT (%(default)s)"
        )
        parser.add_argument("--no-seed", action="store_true", help="start empty, without the demo estate")

    def handle(self, *args, port, no_seed, **options):
        if not 0 <= port <= 65535:
            raise CommandError(f"--port must be between 0 and 65535, not {port}.")
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())

        server = SandboxServer(port)
        try:
            endpoint_url = server.start()
        except PortInUseError as error:
            raise CommandError(str(error)) from None
        try:
            if not no_seed:
                from sandbox.seed import seed_estate

                started = time.monotonic()
                summary = seed_estate(endpoint_url)
                self.stderr.write(f"seeded the demo estate in {time.monotonic() - started:.1f}s: {summary}")
            self.stdout.write(f"sandbox ready on {endpoint_url}")
            self.stdout.flush()
            while not stopping.wait(0.5):
                pass
        finally:
            server.stop()
