"""Lambda without Docker: let the demo functions fail when their input says so.

moto 5.2.5's Docker-less Lambda (`lambda.use_docker=False`, the sandbox's setting) answers every
Invoke with its own payload and never fails (its only hook, `/moto-api/static/lambda-simple/response`,
is one queue of canned answers per region, and cannot fail an invocation either). The order saga's
compensations only run when a step fails, so the traffic generator needs steps that fail on cue.

This extension makes a function answer from its input: when the event is a JSON object whose
`sandbox_failures` maps the function's name to `{"error": ..., "cause": ...}`, the invocation fails
as a function error does on AWS (`X-Amz-Function-Error: Unhandled`, payload
`{"errorType": error, "errorMessage": cause}`), so Step Functions' Retry and Catch see `error`.
Every other invocation is answered as moto answers it. The failure travels with the saga's input
(each Task keeps the input and adds its result under its ResultPath), so one execution's input decides
which of its steps fail: a test or the generator can force any outcome. Nothing is stored.
"""

from __future__ import annotations

import json
from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend

FAILURES_KEY = "sandbox_failures"


def forced_failure(function_name: str, body: Any) -> dict[str, str] | None:
    """The failure the input asks of this function, or None."""
    try:
        event = json.loads(body) if isinstance(body, str | bytes) and body else None
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get(FAILURES_KEY), dict):
        return None
    name = function_name.rsplit(":function:", 1)[-1].split(":", 1)[0]  # an ARN or a name, maybe qualified
    failure = event[FAILURES_KEY].get(name)
    if not isinstance(failure, dict):
        return None
    return {"errorType": str(failure.get("error", "Error")), "errorMessage": str(failure.get("cause", ""))}


def install() -> None:
    moto_invoke = LambdaSimpleBackend.invoke

    def invoke(
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> str | bytes | None:
        failure = forced_failure(function_name, body)
        if failure is None:
            return moto_invoke(self, function_name, qualifier, body, headers, response_headers)
        self.get_function(function_name, qualifier)  # an unknown function is still ResourceNotFound
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(failure).encode()

    LambdaSimpleBackend.invoke = invoke
