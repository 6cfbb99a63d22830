import boto3
from moto import mock_aws
from moto.core.responses import BaseResponse

from sandbox import extensions


def test_installing_twice_patches_moto_once():
    first = extensions.install()
    patched = BaseResponse.call_action

    second = extensions.install()

    assert first == second == extensions.EXTENSIONS
    assert BaseResponse.call_action is patched
    # One wrapper around moto's own method, not a wrapper around a wrapper.
    assert not hasattr(patched.__wrapped__, "__wrapped__")


@mock_aws
def test_each_call_is_recorded_once():
    extensions.install()
    boto3.client("sqs", region_name="eu-west-1").create_queue(QueueName="once")

    events = boto3.client("cloudtrail", region_name="eu-west-1").lookup_events()["Events"]

    assert [event["EventName"] for event in events] == ["CreateQueue"]
