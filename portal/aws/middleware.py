"""Logs how many AWS calls each request made, per service and operation (see portal.aws.accounting)."""

from portal.aws.accounting import count_aws_calls, log_totals


class AwsCallAccountingMiddleware:
    """Placed right after RequestContextMiddleware, so its log line carries the request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with count_aws_calls() as calls:
            response = self.get_response(request)
        log_totals(calls, what=f"{request.method} {request.path}", method=request.method, path=request.path)
        return response
