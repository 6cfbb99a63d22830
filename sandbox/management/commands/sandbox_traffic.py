"""`python manage.py sandbox_traffic`: keep the demo estate living (docs/sandbox.md).

Puts the minute that just ended, then `--history-days` of history, then every minute until Ctrl-C
or SIGTERM. `--once` stops after the history. `make run` starts it once the portal is up.
"""

import signal
import threading

from botocore.exceptions import EndpointConnectionError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from urllib3.util import parse_url

from sandbox.traffic.generator import DEFAULT_SEED, EstateMissingError, Generator


class Command(BaseCommand):
    help = "Generate the demo estate's traffic (CloudWatch metrics, X-Ray traces, saga executions) in the sandbox."

    def add_arguments(self, parser):
        parser.add_argument(
            "--endpoint-url",
            default=settings.AWS_ENDPOINT_URL or f"http://127.0.0.1:{settings.SANDBOX_PORT}",
            help="the sandbox (default: AWS_ENDPOINT_URL, else the local sandbox on SANDBOX_PORT)",
        )
        parser.add_argument("--once", action="store_true", help="stop after the first minute and the history")
        parser.add_argument("--history-days", type=float, default=7.0, help="days of history to put first (7)")
        parser.add_argument("--seed", default=DEFAULT_SEED, help="the same seed and minute give the same traffic")

    def handle(self, *args, endpoint_url, once, history_days, seed, **options):
        if not 0 <= history_days <= 14:
            raise CommandError(f"--history-days must be between 0 and 14, not {history_days:g}.")
        url = parse_url(endpoint_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise CommandError(f"--endpoint-url must be an http(s) URL, not {endpoint_url!r}.")
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())

        def log(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            Generator(endpoint_url, seed=seed, log=log).run(history_days=history_days, once=once, stop=stop)
        except EndpointConnectionError:
            raise CommandError(
                f"The AWS sandbox at {endpoint_url} does not answer. Start it first "
                "(`python manage.py sandbox_server`, or `make run`), or pass --endpoint-url."
            ) from None
        except EstateMissingError as error:
            raise CommandError(str(error)) from None
        if stop.is_set():
            log("traffic: stopped")
