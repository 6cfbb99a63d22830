"""An AWS endpoint that fails the way AWS does, for the network edge of fault tests (no mock of our code).

`failing_json_api(sandbox_url, fail={"GetExecutionHistory": THROTTLING})` is a small HTTP server in
front of the sandbox: requests for the operations in `fail` get AWS's error answer (in the AWS JSON
protocol botocore speaks to Step Functions, the tagging API, Cloud Map...: the operation is the end of the
X-Amz-Target header), the others go through to the sandbox. So a sync can
list executions and then be throttled or refused reading their histories, as it may be by a real
account. `faults.closed_port_url()` is an endpoint nothing listens on (unreachable).
"""

import http.client
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.observability.faults import serving

THROTTLING = (400, "ThrottlingException", "Rate exceeded")
ACCESS_DENIED = (
    400,
    "AccessDeniedException",
    "User: arn:aws:sts::123456789012:assumed-role/MeridianReadOnly/meridian is not authorized to perform: "
    "states:GetExecutionHistory on resource: arn:aws:states:eu-west-1:123456789012:execution:order-saga:* "
    "because no identity-based policy allows the states:GetExecutionHistory action",
)


@contextmanager
def failing_json_api(upstream: str, *, fail: dict[str, tuple[int, str, str]]) -> Iterator[tuple[str, Counter]]:
    """Yields (endpoint URL, Counter of the failed operations' requests)."""
    failed: Counter = Counter()
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
            if operation in fail:
                failed[operation] += 1
                status, code, message = fail[operation]
                return self._answer(
                    status,
                    {"Content-Type": self.headers.get("Content-Type") or "application/x-amz-json-1.0"},
                    json.dumps({"__type": code, "message": message}).encode(),
                )
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            connection.request("POST", self.path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            passed = {k: v for k, v in answer.getheaders() if k.lower() in ("content-type", "x-amzn-requestid")}
            connection.close()
            return self._answer(answer.status, passed, data)

        def _answer(self, status: int, headers: dict, data: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    with serving(Handler) as url:
        yield url, failed
