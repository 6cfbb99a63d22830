"""`manage.py catalog_import PATH_OR_URL...`: import Backstage descriptors from files, folders and URLs."""

from django.core.management.base import BaseCommand, CommandError

from catalog.importing import ImportReport, import_paths, import_url
from catalog.importing.report import APPLIED, NOTHING
from portal.actors import Actor


class Command(BaseCommand):
    help = (
        "Import Backstage catalog descriptors from files, folders (one location per YAML file) and http(s) URLs. "
        "Each entity is applied or refused on its own. Prints what changed; exit status 0 when everything was "
        "applied, 1 when something was refused and the rest applied, 2 when nothing was applied. "
        "Warnings (a missing optional target) do not change it."
    )

    def add_arguments(self, parser):
        parser.add_argument("sources", nargs="+", metavar="PATH_OR_URL")
        parser.add_argument(
            "--force",
            action="store_true",
            help="apply even when a location would orphan more of its entities than CATALOG_ORPHAN_GUARD allows",
        )
        parser.add_argument(
            "--atomic",
            action="store_true",
            help="all or nothing: write nothing at all when any document, file or location is refused (for CI)",
        )

    def handle(self, *args, sources, force, atomic, verbosity, **options):
        actor = Actor.for_system("command:catalog_import")
        urls = [source for source in sources if source.lower().startswith(("http://", "https://"))]
        paths = [source for source in sources if source not in urls]
        report = ImportReport()
        if atomic and paths and urls:
            # Each call is its own transaction; one atomic import reads one kind of source.
            raise CommandError("--atomic takes files and folders, or one URL, not both.", returncode=2)
        if atomic and len(urls) > 1:
            raise CommandError("--atomic takes one URL at a time.", returncode=2)
        if paths:
            report.extend(import_paths(actor=actor, paths=paths, force=force, atomic=atomic))
        for url in urls:
            report.extend(import_url(actor=actor, url=url, force=force, atomic=atomic))
        self.stdout.write(report.as_text(verbosity=verbosity))
        if report.status != APPLIED:
            what = "nothing was applied" if report.status == NOTHING else "the rest was applied"
            raise CommandError(
                f"{report.entities_refused} entities refused, {len(report.all_problems)} problem(s), "
                f"{len(report.refused)} location(s) refused; {what}. See above.",
                returncode=report.status,
            )
