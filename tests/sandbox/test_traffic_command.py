"""`manage.py sandbox_traffic` refuses what it cannot do with a sentence, not a traceback.
(It running for real: tests/sandbox/test_traffic_emit.py and tests/sandbox/test_run_local.py.)"""

import socket

import pytest
from django.core.management import CommandError, call_command


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unseeded_sandbox_is_named_with_how_to_seed_it(sandbox_endpoint):
    with pytest.raises(CommandError, match=r"has no demo estate .*sandbox_server"):
        call_command("sandbox_traffic", endpoint_url=sandbox_endpoint, once=True, history_days=0)


def test_a_sandbox_that_does_not_answer_is_named():
    url = f"http://127.0.0.1:{_closed_port()}"

    with pytest.raises(CommandError, match=rf"The AWS sandbox at {url} does not answer"):
        call_command("sandbox_traffic", endpoint_url=url, once=True, history_days=0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"history_days": 30}, "--history-days must be between 0 and 14, not 30"),
        ({"history_days": -1}, "--history-days must be between 0 and 14, not -1"),
        ({"endpoint_url": "localhost:5055"}, "--endpoint-url must be an http"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("sandbox_traffic", once=True, **options)
