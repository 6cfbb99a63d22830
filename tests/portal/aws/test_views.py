import pytest
from django.urls import reverse

from audit.models import AuditEvent
from portal.aws.models import AwsAccount
from portal.aws.tasks import aws_account_verify
from tests.portal.aws.conftest import make_accounts

PAGE = reverse("aws:account_list")


@pytest.mark.parametrize("n", [1, 8])
def test_the_page_renders_with_the_endpoint_down_showing_a_notice_in_constant_queries(
    n, client, normal_user, own_account, endpoint_down, settings, django_assert_num_queries
):
    settings.AWS_BREAKER_FAILURES = 1
    aws_account_verify(own_account.pk)  # fails and opens the breaker
    make_accounts(n)
    client.force_login(normal_user)

    # 1 session, 2 user, 3 the accounts, 4 the user's memberships (base layout's user menu).
    # The breaker states come from the cache in one get_many; AWS is never called.
    with django_assert_num_queries(4):
        response = client.get(PAGE)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="aws-notice"' in page
    assert "AWS is not answering for meridian-prod" in page
    assert "Cannot connect to the AWS endpoint" in page
    assert page.count("<tr") == n + 2  # header + meridian-prod + n
    assert "Verify now" not in page  # not a portal admin


def test_the_page_shows_status_and_freshness(aws, client, normal_user, own_account):
    aws_account_verify(own_account.pk)
    client.force_login(normal_user)

    page = client.get(PAGE).content.decode()

    assert '<span class="badge text-bg-success">OK</span>' in page
    assert "0\xa0minutes ago" in page
    assert "eu-west-1" in page
    assert 'data-testid="aws-notice"' not in page


def test_a_portal_admin_verifies_now_audited_and_run_after_commit(
    aws, celery_eager, client, portal_admin, own_account, django_capture_on_commit_callbacks
):
    client.force_login(portal_admin)
    assert "Verify now" in client.get(PAGE).content.decode()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("aws:account_verify", args=[own_account.pk]))

    assert response.status_code == 302 and response["Location"] == PAGE
    assert len(callbacks) == 1
    event = AuditEvent.objects.get(action__startswith="aws_account.")
    assert (event.action, event.actor_label, event.target_id) == (
        "aws_account.verify_request",
        "root",
        str(own_account.pk),
    )
    own_account.refresh_from_db()
    assert own_account.status == AwsAccount.Status.OK


def test_a_normal_user_may_not_verify(client, normal_user, own_account, django_capture_on_commit_callbacks):
    client.force_login(normal_user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("aws:account_verify", args=[own_account.pk]))

    assert response.status_code == 403
    assert callbacks == []
    assert not AuditEvent.objects.filter(action__startswith="aws_account.").exists()
