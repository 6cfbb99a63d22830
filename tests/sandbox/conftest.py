import boto3
import pytest

from sandbox import testing
from sandbox.seed import SANDBOX_CREDENTIALS

# The sandbox's shared fixtures (pytest_plugins may only be declared in the top-level conftest).
sandbox_server = testing.sandbox_server
sandbox_endpoint = testing.sandbox_endpoint
sandbox_estate = testing.sandbox_estate


@pytest.fixture
def aws(sandbox_endpoint):
    """boto3 clients on the sandbox with the prod account's credentials: aws("sqs", "eu-west-1")."""

    def client(service, region="eu-west-1", **credentials):
        return boto3.client(
            service, region_name=region, endpoint_url=sandbox_endpoint, **(credentials or SANDBOX_CREDENTIALS)
        )

    return client
