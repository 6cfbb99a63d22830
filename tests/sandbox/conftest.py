import boto3
import pytest

from sandbox.seed import SANDBOX_CREDENTIALS


@pytest.fixture
def aws(sandbox_endpoint):
    """boto3 clients on the sandbox with the prod account's credentials: aws("sqs", "eu-west-1")."""

    def client(service, region="eu-west-1", **credentials):
        return boto3.client(
            service, region_name=region, endpoint_url=sandbox_endpoint, **(credentials or SANDBOX_CREDENTIALS)
        )

    return client
