"""The AWS resources X-Ray draws on the map (tables, queues, topics, buckets), as the ARNs discovery knows them by.

X-Ray infers a node for each AWS resource an instrumented service calls and names it as the SDK recorded the
call: a DynamoDB table or SQS queue by its name, an S3 bucket by its name, an SNS topic by its ARN. It gives no
ARN for most, so one is built from the node's name, type, account and the region whose X-Ray drew it: the ARN
AWS discovery annotates the Resource with (amazonaws.com/arn), which is how the map finds it in the catalog.
"""

from portal.aws.arns import parse_arn

# X-Ray's node type -> how the resource's ARN is spelt, from its partition, region, account and name.
_ARN_FORMATS = {
    "AWS::DynamoDB::Table": "arn:{partition}:dynamodb:{region}:{account}:table/{name}",
    "AWS::SQS::Queue": "arn:{partition}:sqs:{region}:{account}:{name}",
    "AWS::SNS": "arn:{partition}:sns:{region}:{account}:{name}",
    "AWS::SNS::Topic": "arn:{partition}:sns:{region}:{account}:{name}",
    "AWS::S3::Bucket": "arn:{partition}:s3:::{name}",
}


def is_aws_resource(node_type: str) -> bool:
    """Whether X-Ray's node type is an AWS resource that the catalog knows as a Resource, never as a Component."""
    return node_type in _ARN_FORMATS


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def resource_arn(*, node_type: str, name: str, account_id: str, region: str) -> str | None:
    """The ARN of the AWS resource X-Ray drew as (type, name) in this account and region; None for other nodes."""
    if not is_aws_resource(node_type):
        return None
    if parse_arn(name) is not None:
        return name
    return _ARN_FORMATS[node_type].format(partition=partition_of(region), region=region, account=account_id, name=name)


def display_name(name: str) -> str:
    """The name a person knows a node by: a resource's own name where X-Ray shows its ARN (SNS topics)."""
    arn = parse_arn(name)
    return arn.short_name if arn is not None else name
