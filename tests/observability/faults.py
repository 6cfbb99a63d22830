"""AWS endpoints that fail the way AWS does, for the network edge of fault tests (no mock of our code):
a fake CloudWatch that answers every request with an error (throttling, access denied) after an optional
delay (a timeout), in CloudWatch's wire format (the AWS JSON 1.0 protocol botocore speaks to it, with the
query-compatible error code header), so botocore raises the same ClientError a real answer gives; and a
closed port (unreachable)."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

THROTTLING = (400, "Throttling", "Rate exceeded")
ACCESS_DENIED = (
    403,
    "AccessDenied",
    "User: arn:aws:sts::123456789012:assumed-role/MeridianReadOnly/meridian is not authorized to perform: "
    "cloudwatch:GetMetricData because no identity-based policy allows the cloudwatch:GetMetricData action",
)


@contextmanager
def failing_cloudwatch(status: int, code: str, message: str, *, delay: float = 0.0) -> Iterator[str]:
    """An endpoint answering every request with `code` (after `delay` seconds); yields its URL."""
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            requests.append(self.path)
            if delay:
                time.sleep(delay)
            body = json.dumps({"__type": f"com.amazonaws.cloudwatch#{code}", "message": message}).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("x-amzn-query-error", f"{code};Sender")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, *args):
            pass

    with serving(Handler) as url:
        yield url


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on a free loopback port, in a thread, for as long as the block runs; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    # Bind, note the port, close: nothing listens there, so connecting is refused at once.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"
