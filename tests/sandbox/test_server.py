import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from django.core.management import CommandError, call_command

from sandbox.seed import SANDBOX_CREDENTIALS
from sandbox.server import PortInUseError, SandboxServer

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_busy_port_is_named_with_how_to_change_it(busy_port):
    with pytest.raises(PortInUseError) as raised:
        SandboxServer(busy_port).start()

    message = str(raised.value)
    assert f"Port {busy_port} on 127.0.0.1 is already in use" in message
    assert "SANDBOX_PORT" in message


def test_the_command_reports_a_busy_port_without_a_traceback(busy_port):
    with pytest.raises(CommandError, match=rf"Port {busy_port} .* set SANDBOX_PORT"):
        call_command("sandbox_server", port=busy_port, no_seed=True)


def test_the_command_serves_until_sigterm():
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox_server", "--port", "0", "--no-seed"],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"},
    )
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"sandbox ready on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line + process.stderr.read()
        sqs = boto3.client("sqs", region_name="eu-west-1", endpoint_url=match.group(1), **SANDBOX_CREDENTIALS)
        sqs.create_queue(QueueName="hello")
        assert sqs.list_queues()["QueueUrls"][0].endswith("/hello")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_lambda_runs_without_docker_and_step_functions_really_execute(sandbox_estate, aws):
    assert aws("lambda").invoke(FunctionName="cart-service", Payload=b'{"cartId": "c-1"}')["StatusCode"] == 200

    sfn = aws("stepfunctions")
    machine = "arn:aws:states:eu-west-1:123456789012:stateMachine:order-saga"
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"orderId": "o-1"}))["executionArn"]
    deadline = time.monotonic() + 10
    while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING":
        assert time.monotonic() < deadline, "the saga did not finish"
        time.sleep(0.05)

    assert status == "SUCCEEDED"
    entered = [
        event["stateEnteredEventDetails"]["name"]
        for event in sfn.get_execution_history(executionArn=execution)["events"]
        if event["type"] == "TaskStateEntered"
    ]
    assert entered == ["ReserveInventory", "ChargePayment", "ShipOrder"]


def test_a_stopped_server_frees_its_port():
    server = SandboxServer(0)
    endpoint_url = server.start()
    port = server.port
    server.stop()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # would raise if the server still held it
    assert endpoint_url == f"http://127.0.0.1:{port}"
