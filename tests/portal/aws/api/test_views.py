"""/api/v1/aws-accounts/: read-only, for everyone signed in, in constant queries."""

import pytest

from tests.portal.aws.conftest import make_accounts


@pytest.mark.parametrize("n", [1, 8])
def test_api_lists_accounts_for_a_signed_in_user_in_constant_queries(
    n, client, normal_user, own_account, django_assert_num_queries
):
    make_accounts(n)
    client.force_login(normal_user)

    # 1 session, 2 user, 3 one page of accounts (cursor pagination: no COUNT).
    with django_assert_num_queries(3):
        response = client.get("/api/v1/aws-accounts/")

    assert response.status_code == 200
    body = response.json()
    assert [a["name"] for a in body["results"]] == sorted(["meridian-prod", *(f"acct-{i}" for i in range(n))])
    first = body["results"][0]
    assert "external_id" not in first
    assert set(first) >= {"account_id", "regions", "status", "last_verified_at"}


def test_api_retrieves_one_account(client, normal_user, second_account):
    client.force_login(normal_user)

    body = client.get(f"/api/v1/aws-accounts/{second_account.pk}/").json()

    assert (body["account_id"], body["role_arn"], body["regions"]) == (
        "222222222222",
        "arn:aws:iam::222222222222:role/MeridianReadOnly",
        ["eu-west-1", "us-east-1"],
    )


def test_api_is_read_only_and_needs_a_signed_in_user(client, portal_admin, own_account):
    assert client.get("/api/v1/aws-accounts/").status_code in (401, 403)

    client.force_login(portal_admin)
    response = client.patch(
        f"/api/v1/aws-accounts/{own_account.pk}/", {"enabled": False}, content_type="application/json"
    )

    assert response.status_code == 405
