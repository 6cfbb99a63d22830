"""The AWS accounts page. It renders from the database only: it never waits on AWS."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from portal import permissions
from portal.actors import Actor
from portal.aws import selectors, services
from portal.aws.models import AwsAccount


@require_GET
def account_list(request):
    accounts = list(selectors.aws_account_list())
    context = {
        "accounts": accounts,
        "notice": selectors.aws_availability_notice(accounts),
        # Accounts have no owning team, so the answer is the same for every row.
        "may_verify": permissions.can(request.user, permissions.CHANGE, AwsAccount()),
    }
    return render(request, "aws/account_list.html", context)


@require_POST
def account_verify(request, pk):
    account = get_object_or_404(AwsAccount, pk=pk)
    if not permissions.can(request.user, permissions.CHANGE, account):
        raise PermissionDenied("Only portal admins may verify AWS accounts.")
    services.aws_account_verify_request(actor=Actor.from_request(request), account=account)
    messages.success(request, f"Verification of {account} is queued; refresh in a moment to see the result.")
    return redirect("aws:account_list")
