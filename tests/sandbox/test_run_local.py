"""`make run`'s supervisor, run for real: it brings up the sandbox, worker, beat, web server and traffic
generator on a laptop-like configuration, the portal answers, traffic arrives, and a stop leaves no
process behind."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import boto3
import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_busy_port_is_refused_with_a_clear_message():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=rf"Port {port} for the web server is already in use"):
            call_command("run_local", port=port, sandbox_port=_free_port())


def _sign_in(base: str, username: str, password: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/accounts/login/", timeout=10).read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf, "next": "/"})
    request = urllib.request.Request(f"{base}/accounts/login/", data=form.encode(), headers={"Referer": base + "/"})
    return opener.open(request, timeout=10).read().decode()


@pytest.fixture
def running_portal(tmp_path):
    web, sandbox = _free_port(), _free_port()
    env = {
        **os.environ,
        # A laptop: SQLite, the file-system broker and a file cache, all in a folder of this test's.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'meridian.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_DIR": str(tmp_path / "celery"),
        "CACHE_URL": f"filecache://{tmp_path / 'cache'}",
        "DJANGO_ALLOW_ASYNC_UNSAFE": "",
    }
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    log = tmp_path / "run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_local", "--port", str(web), "--sandbox-port", str(sandbox)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while "Meridian is running" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        try:
            yield f"http://127.0.0.1:{web}", f"http://127.0.0.1:{sandbox}", log, process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=30)


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,sid="], capture_output=True, text=True, check=True).stdout
    return [int(p) for p, s in (line.split() for line in out.splitlines()) if int(s) == pid and int(p) != pid]


@pytest.mark.worker
def test_run_local_serves_the_portal_on_the_sandbox_and_stops_everything(running_portal):
    base, sandbox, log, process = running_portal
    output = log.read_text()
    password = re.search(r"\| orders-maintainer +\| (\S+) +\|", output).group(1)

    ready = urllib.request.urlopen(f"{base}/readyz", timeout=10)
    assert ready.status == 200

    assert "Welcome," in _sign_in(base, "orders-maintainer", password)

    # The demo estate, listed by its tags, the way any AWS client would.
    tagging = boto3.client(
        "resourcegroupstaggingapi", region_name="eu-west-1", endpoint_url=sandbox,
        aws_access_key_id="demo", aws_secret_access_key="demo",
    )  # fmt: skip
    found = tagging.get_resources(TagFilters=[{"Key": "team", "Values": ["team-orders"]}])["ResourceTagMappingList"]
    assert found and all({"service", "team", "env"} <= {t["Key"] for t in r["Tags"]} for r in found)

    # The traffic generator puts the minute that just ended first, before the week of history.
    cloudwatch = boto3.client(
        "cloudwatch", region_name="eu-west-1", endpoint_url=sandbox,
        aws_access_key_id="demo", aws_secret_access_key="demo",
    )  # fmt: skip
    deadline = time.monotonic() + 60
    metrics = []
    while not (metrics and "[traffic] traffic: minute" in log.read_text()) and time.monotonic() < deadline:
        metrics = cloudwatch.list_metrics(Namespace="AWS/ApiGateway", MetricName="Count")["Metrics"]
        time.sleep(0.5)
    assert [m["Dimensions"] for m in metrics] == [[{"Name": "ApiName", "Value": "meridian-storefront"}]], (
        log.read_text()[-2000:]
    )

    children = _descendants(process.pid)
    process.send_signal(signal.SIGINT)  # Ctrl-C
    assert process.wait(timeout=30) == 0
    time.sleep(0.5)
    still_running = [pid for pid in children if os.path.exists(f"/proc/{pid}")]
    assert still_running == [], log.read_text()[-2000:]
    # Stopped in order: the traffic generator (here still putting the week of history) before the sandbox.
    stopping = log.read_text().rpartition("Meridian is running")[2]
    assert "does not answer" not in stopping and "Traceback" not in stopping, stopping[-2000:]


def _make_run_command(*variables: str) -> str:
    """The run_local command line `make run` would start (make -n: printed, not run)."""
    lines = subprocess.run(
        ["make", "-n", "run", *variables], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return next(line for line in lines if "run_local" in line)


def test_make_run_takes_the_web_and_sandbox_ports():
    assert _make_run_command().endswith("manage.py run_local")
    assert _make_run_command("PORT=8100").endswith("run_local --port 8100")
    assert _make_run_command("PORT=8100", "SANDBOX_PORT=5100").endswith("run_local --port 8100 --sandbox-port 5100")


def test_the_web_server_and_the_sandbox_cannot_share_a_port():
    port = _free_port()
    with pytest.raises(CommandError, match=rf"the web server and the AWS sandbox both on port {port}"):
        call_command("run_local", port=port, sandbox_port=port)
