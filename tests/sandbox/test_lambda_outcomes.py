"""sandbox/extensions/lambda_outcomes.py: a demo function fails when its input says so, as a client sees it."""

import json

import boto3
import pytest
from moto import mock_aws

from sandbox.seed import lambda_archive


@mock_aws(config={"lambda": {"use_docker": False}})
def test_a_demo_function_fails_when_its_input_says_so():
    role = boto3.client("iam", region_name="us-east-1").create_role(RoleName="demo", AssumeRolePolicyDocument="{}")[
        "Role"
    ]["Arn"]
    aws_lambda = boto3.client("lambda", region_name="eu-west-1")
    for name in ("cart-service", "fraud-scorer"):
        aws_lambda.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": lambda_archive()},
        )
    failing = {"orderId": "o-1", "sandbox_failures": {"cart-service": {"error": "CartLocked", "cause": "busy"}}}

    failed = aws_lambda.invoke(FunctionName="cart-service", Payload=json.dumps(failing))
    other = aws_lambda.invoke(FunctionName="fraud-scorer", Payload=json.dumps(failing))
    plain = aws_lambda.invoke(FunctionName="cart-service", Payload=json.dumps({"orderId": "o-2"}))

    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read()) == {"errorType": "CartLocked", "errorMessage": "busy"}
    assert "FunctionError" not in other and json.loads(other["Payload"].read()) == failing  # not its name
    assert "FunctionError" not in plain and json.loads(plain["Payload"].read()) == {"orderId": "o-2"}
    with pytest.raises(aws_lambda.exceptions.ResourceNotFoundException):
        aws_lambda.invoke(FunctionName="missing", Payload=json.dumps({"sandbox_failures": {"missing": {}}}))
