"""Create or update the AWS accounts listed in AWS_ACCOUNTS (idempotent; audited when something changes)."""

from django.core.management.base import BaseCommand

from portal.actors import Actor
from portal.aws.services import aws_accounts_sync_from_settings


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        result = aws_accounts_sync_from_settings(actor=Actor.for_system("command:aws_accounts_sync"))
        for label, names in (("created", result.created), ("updated", result.updated), ("unchanged", result.unchanged)):
            if names:
                self.stdout.write(f"AWS accounts {label}: {', '.join(names)}")
        if not (result.created or result.updated or result.unchanged):
            self.stdout.write("AWS_ACCOUNTS is empty: no accounts to sync.")
