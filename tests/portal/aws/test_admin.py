from django.urls import reverse

from audit.models import AuditEvent
from portal.aws.models import AwsAccount
from portal.models import User

ADD = reverse("admin:aws_awsaccount_add")
FORM = {
    "name": "payments",
    "account_id": "210987654321",
    "role_arn": "arn:aws:iam::210987654321:role/MeridianReadOnly",
    "external_id": "meridian-demo",
    "regions": '["eu-west-1"]',
    "enabled": "on",
}


def test_a_portal_admin_adds_an_account_in_the_admin_and_it_is_audited(client, portal_admin):
    client.force_login(portal_admin)

    response = client.post(ADD, FORM)

    assert response.status_code == 302
    account = AwsAccount.objects.get(account_id="210987654321")
    assert account.regions == ["eu-west-1"]
    event = AuditEvent.objects.get(action__startswith="aws_account.")
    assert (event.action, event.actor_label) == ("aws_account.create", "root")
    assert event.after["role_arn"] == FORM["role_arn"]


def test_staff_who_are_not_portal_admins_may_look_but_not_change(client, own_account):
    staff = User.objects.create_user(username="staff", password="x", is_staff=True)
    client.force_login(staff)

    assert client.get(reverse("admin:aws_awsaccount_changelist")).status_code == 200
    assert client.post(ADD, FORM).status_code == 403
    change = reverse("admin:aws_awsaccount_change", args=[own_account.pk])
    client.post(change, {**FORM, "account_id": own_account.account_id, "role_arn": ""})
    own_account.refresh_from_db()
    assert own_account.name == "meridian-prod"
    assert not AuditEvent.objects.filter(action__startswith="aws_account.").exists()
