"""URL imports: a local HTTP server on 127.0.0.1 stands in for a catalog host."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from catalog.importing import import_paths, import_url
from catalog.importing.fetching import UrlRefused, check_url
from catalog.models import Entity, Location
from tests.catalog.descriptors import ACTOR, COMPONENT

pytestmark = pytest.mark.django_db


PAGES = {
    "/catalog/all.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: all\n"
    "spec:\n  targets:\n    - ./services/orders.yaml\n    - services/payments.yaml\n",
    "/catalog/services/orders.yaml": COMPONENT.format(name="orders"),
    "/catalog/services/payments.yaml": COMPONENT.format(name="payments")
    + "  definition:\n    $text: ../defs/payments.txt\n",
    "/catalog/defs/payments.txt": "the payments API",
    "/catalog/escape.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: escape\n"
    "spec:\n  targets:\n    - ../secret.yaml\n",
    "/secret.yaml": COMPONENT.format(name="secret"),
    "/catalog/typed-file.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: typed\n"
    "spec:\n  type: file\n  targets:\n    - ./services/orders.yaml\n",
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/redirect-away":
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_port}/catalog/services/orders.yaml")
            self.end_headers()
            return
        if self.path == "/redirect-here":
            self.send_response(301)
            self.send_header("Location", "/catalog/services/orders.yaml")
            self.end_headers()
            return
        if self.path == "/huge.yaml":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the limit must hold while streaming
            for _ in range(100):
                self.wfile.write(b"# " + b"x" * 1022 + b"\n")
            return
        body = PAGES.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/yaml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def local_allowed(settings):
    settings.CATALOG_IMPORT_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.CATALOG_IMPORT_ALLOW_PRIVATE = True
    return settings


def test_a_url_import_follows_relative_targets_and_substitutions_on_the_same_host(server, local_allowed):
    report = import_url(actor=ACTOR, url=f"{server}/catalog/all.yaml")
    assert report.ok, report.as_text()
    assert sorted(Entity.objects.values_list("name", flat=True)) == ["all", "orders", "payments"]
    assert Entity.objects.get(name="payments").spec["definition"] == "the payments API"
    assert sorted(Location.objects.values_list("type", "target")) == [
        ("url", f"{server}/catalog/all.yaml"),
        ("url", f"{server}/catalog/services/orders.yaml"),
        ("url", f"{server}/catalog/services/payments.yaml"),
    ]


def test_a_url_target_outside_the_urls_folder_is_refused(server, local_allowed):
    report = import_url(actor=ACTOR, url=f"{server}/catalog/escape.yaml")
    [problem] = report.problems
    assert problem.rule == "location.outside-root"
    assert f"{server}/catalog/" in problem.message
    assert list(Entity.objects.values_list("name", flat=True)) == ["escape"]  # the Location entity, not the secret


def test_loopback_is_refused_by_default(server, settings):
    settings.CATALOG_IMPORT_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    report = import_url(actor=ACTOR, url=f"{server}/catalog/services/orders.yaml")
    [problem] = report.problems
    assert problem.rule == "url.private-address"
    assert "127.0.0.1" in problem.message
    assert Entity.objects.count() == 0
    # Every address a name resolves to is checked, whatever the name.
    with pytest.raises(UrlRefused) as caught:
        check_url(server.replace("127.0.0.1", "localhost") + "/x.yaml")
    assert caught.value.rule == "url.private-address"


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "[::1]", "[fe80::1]"],  # noqa: S104 - refused, not bound
)
def test_private_link_local_and_reserved_addresses_are_refused(settings, address):
    settings.CATALOG_IMPORT_ALLOWED_HOSTS = [address.strip("[]")]
    with pytest.raises(UrlRefused) as caught:
        check_url(f"http://{address}/catalog.yaml")
    assert caught.value.rule == "url.private-address"


def test_a_host_not_on_the_allow_list_is_refused_and_nothing_is_allowed_by_default(server, settings):
    settings.CATALOG_IMPORT_ALLOW_PRIVATE = True
    assert settings.CATALOG_IMPORT_ALLOWED_HOSTS == []
    report = import_url(actor=ACTOR, url=f"{server}/catalog/all.yaml")
    assert [p.rule for p in report.problems] == ["url.host-not-allowed"]
    assert "CATALOG_IMPORT_ALLOWED_HOSTS" in report.problems[0].message
    assert Entity.objects.count() == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x.yaml", "gopher://127.0.0.1/"])
def test_only_http_and_https_are_fetched(local_allowed, url):
    report = import_url(actor=ACTOR, url=url)
    assert [p.rule for p in report.problems] == ["url.scheme"]


def test_a_redirect_to_a_host_not_allowed_is_refused(server, local_allowed):
    report = import_url(actor=ACTOR, url=f"{server}/redirect-away")
    [problem] = report.problems
    assert problem.rule == "url.host-not-allowed"
    assert "localhost" in problem.message
    assert Entity.objects.count() == 0


def test_a_redirect_within_the_allowed_host_is_followed(server, local_allowed):
    report = import_url(actor=ACTOR, url=f"{server}/redirect-here")
    assert report.ok, report.as_text()
    assert list(Entity.objects.values_list("name", flat=True)) == ["orders"]


def test_a_body_over_the_size_limit_is_refused_while_streaming(server, local_allowed):
    local_allowed.CATALOG_IMPORT_MAX_BYTES = 10_000
    report = import_url(actor=ACTOR, url=f"{server}/huge.yaml")
    assert [p.rule for p in report.problems] == ["source.too-large"]


def test_an_error_status_is_reported(server, local_allowed):
    report = import_url(actor=ACTOR, url=f"{server}/nothing-here.yaml")
    [problem] = report.problems
    assert (problem.rule, problem.message.endswith("answered 404")) == ("url.status", True)


def test_a_server_that_never_answers_times_out(local_allowed):
    local_allowed.CATALOG_IMPORT_TIMEOUT = 0.5
    # Accepts connections (the kernel's backlog) and never says a word.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    try:
        started = time.monotonic()
        report = import_url(actor=ACTOR, url=f"http://127.0.0.1:{silent.getsockname()[1]}/catalog.yaml")
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    [problem] = report.problems
    assert problem.rule == "url.timeout"
    assert "0.5 s" in problem.message
    assert elapsed < 3
    assert Entity.objects.count() == 0


def test_a_relative_file_target_in_a_url_import_is_resolved_against_the_url(server, local_allowed):
    # Backstage resolves a relative target against the location that names it, whatever its spec.type says.
    report = import_url(actor=ACTOR, url=f"{server}/catalog/typed-file.yaml")
    assert report.ok, report.as_text()
    assert sorted(Entity.objects.values_list("name", flat=True)) == ["orders", "typed"]
    assert Entity.objects.get(name="orders").location.target == f"{server}/catalog/services/orders.yaml"


def test_a_remote_text_placeholder_in_a_file_is_read_through_the_fetcher_from_an_allowed_host(
    server, local_allowed, tmp_path
):
    (tmp_path / "api.yaml").write_text(
        COMPONENT.format(name="payments") + f"  definition:\n    $text: {server}/catalog/defs/payments.txt\n"
    )
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    assert report.ok, report.as_text()
    assert Entity.objects.get(name="payments").spec["definition"] == "the payments API"


def test_a_remote_location_target_in_a_file_is_read_from_an_allowed_host(server, local_allowed, tmp_path):
    (tmp_path / "all.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: remote\n"
        f"spec:\n  targets:\n    - {server}/catalog/services/orders.yaml\n"
    )
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    assert report.ok, report.as_text()
    assert sorted(Entity.objects.values_list("name", flat=True)) == ["orders", "remote"]
    assert Location.objects.filter(type="url", target=f"{server}/catalog/services/orders.yaml").exists()
