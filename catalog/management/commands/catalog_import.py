"""`manage.py catalog_import PATH_OR_URL...`: import Backstage descriptors from files, folders and URLs."""

from django.core.management.base import BaseCommand, CommandError

from catalog.importing import ImportReport, import_paths, import_url
from portal.actors import Actor


class Command(BaseCommand):
    help = (
        "Import Backstage catalog descriptors from files, folders (one location per YAML file) and http(s) URLs. "
        "Prints what changed; exits with status 1 when anything was refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("sources", nargs="+", metavar="PATH_OR_URL")
        parser.add_argument(
            "--force",
            action="store_true",
            help="apply even when a location would orphan more of its entities than CATALOG_ORPHAN_GUARD allows",
        )

    def handle(self, *args, sources, force, verbosity, **options):
        actor = Actor.for_system("command:catalog_import")
        urls = [source for source in sources if source.lower().startswith(("http://", "https://"))]
        paths = [source for source in sources if source not in urls]
        report = ImportReport()
        if paths:
            report.extend(import_paths(actor=actor, paths=paths, force=force))
        for url in urls:
            report.extend(import_url(actor=actor, url=url, force=force))
        self.stdout.write(report.as_text(verbosity=verbosity))
        if not report.ok:
            raise CommandError(
                f"{len(report.all_problems)} problem(s), {len(report.refused)} location(s) refused; see above.",
                returncode=1,
            )
