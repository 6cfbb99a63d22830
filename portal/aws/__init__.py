"""The AWS layer: accounts, the one client factory, call accounting, circuit breaker, errors.

- clients.client(service, *, account, region): every boto3 client (assume-role, retries, timeouts, endpoint)
- errors: AwsError and subclasses; aws_errors(account=, service=) wraps gateway calls
- accounting.count_aws_calls(): per (service, operation) counts; middleware/Celery hooks log them
- breaker: per (account, service) circuit breaker in the cache, wired into every factory client
- freshness.fetch_or_last_good(key, fetch): last good data, stale with a notice when AWS fails
- aws.caller_identity(account, region): the layer's own gateway; tasks.aws_account_verify(pk)
"""
