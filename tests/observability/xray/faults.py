"""An X-Ray endpoint that fails the way AWS does, for the network edge of fault tests (no mock of our code).

It answers every request with an error in X-Ray's wire format (the REST-JSON protocol: the code in the
`x-amzn-ErrorType` header, the message in the body), so botocore raises the same ClientError a real
answer gives. A closed port stands for an unreachable endpoint.
"""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from tests.observability.faults import serving

THROTTLED = (429, "ThrottledException", "Rate exceeded")
ACCESS_DENIED = (
    403,
    "AccessDeniedException",
    "User: arn:aws:sts::123456789012:assumed-role/MeridianReadOnly/meridian is not authorized to perform: "
    "xray:GetServiceGraph because no identity-based policy allows the xray:GetServiceGraph action",
)


@contextmanager
def failing_xray(status: int, code: str, message: str, *, delay: float = 0.0) -> Iterator[tuple[str, list[str]]]:
    """Yields (url, requests seen): every request is answered with `code`, after `delay` seconds (a slow AWS)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _fail(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.path)
            if delay:
                time.sleep(delay)
            body = json.dumps({"message": message}).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-amzn-ErrorType", f"{code}:http://internal.amazon.com/coral/com.amazon.xray/")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        do_POST = do_GET = _fail

        def log_message(self, *args):
            pass

    with serving(Handler) as url:
        yield url, seen
