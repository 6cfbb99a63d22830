"""boto3 clients on a running sandbox for any account and region of the demo estate.

The seed and the traffic generator act as the estate's own workloads would: in the
prod account with the sandbox's fixed credentials (moto acts in its default account,
123456789012, for keys it does not know), in every other account through
`sts:AssumeRole` on the account's `admin_role_arn`, as an AWS Organizations
management account reaches a member account. Sessions and clients are made once
and reused.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from sandbox import estate
from sandbox.estate import Account

# Credentials of the portal's own (prod) account in the sandbox: any key moto does not know acts there.
SANDBOX_CREDENTIALS = {"aws_access_key_id": "AKIAMERIDIANSANDBOX1", "aws_secret_access_key": "meridian-sandbox"}
CLIENT_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=30)


class EstateClients:
    """`clients.client(account, region, "sqs")`: one cached client per account, region and service."""

    def __init__(self, endpoint_url: str, *, session_name: str = "meridian-sandbox", config: Config = CLIENT_CONFIG):
        self.endpoint_url = endpoint_url
        self._session_name = session_name
        self._config = config
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._sessions: dict[str, boto3.session.Session] = {}

    def session(self, account: Account) -> boto3.session.Session:
        if account.id not in self._sessions:
            if account.admin_role_arn is None:
                self._sessions[account.id] = boto3.session.Session(**SANDBOX_CREDENTIALS)
            else:
                sts = self.client(estate.accounts()[0], estate.regions()[0], "sts")
                credentials = sts.assume_role(RoleArn=account.admin_role_arn, RoleSessionName=self._session_name)[
                    "Credentials"
                ]
                self._sessions[account.id] = boto3.session.Session(
                    aws_access_key_id=credentials["AccessKeyId"],
                    aws_secret_access_key=credentials["SecretAccessKey"],
                    aws_session_token=credentials["SessionToken"],
                )
        return self._sessions[account.id]

    def client(self, account: Account, region: str, service: str) -> Any:
        key = (account.id, region, service)
        if key not in self._clients:
            self._clients[key] = self.session(account).client(
                service, region_name=region, endpoint_url=self.endpoint_url, config=self._config
            )
        return self._clients[key]
