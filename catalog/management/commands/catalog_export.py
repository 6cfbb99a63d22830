"""`manage.py catalog_export`: the catalog, a location or some entities as multi-document Backstage YAML."""

from django.core.management.base import BaseCommand, CommandError

from catalog.exporting import entities_for_export, iter_export_yaml
from catalog.models import Entity, Location
from catalog.refs import RefError, parse_ref


class Command(BaseCommand):
    help = "Export entities as Backstage YAML: everything, one location's (--location), or named ones (--ref)."

    def add_arguments(self, parser):
        parser.add_argument("--location", help="a location, as type:target (file:/path/x.yaml) or its target alone")
        parser.add_argument(
            "--ref", action="append", default=[], help="an entity reference, kind:namespace/name (repeatable)"
        )
        parser.add_argument("-o", "--output", help="write to this file instead of standard output")
        parser.add_argument(
            "--with-locations",
            action="store_true",
            help="keep Location entities (left out by default: their relative targets do not re-import elsewhere)",
        )

    def handle(self, *args, location, ref, output, with_locations, **options):
        if location and ref:
            raise CommandError("Give --location or --ref, not both.")
        if location:
            entities = entities_for_export(location=self._location(location), with_locations=with_locations)
        elif ref:
            entities = self._entities(ref)
        else:
            entities = entities_for_export(with_locations=with_locations)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.writelines(iter_export_yaml(entities))
        else:
            for chunk in iter_export_yaml(entities):
                self.stdout.write(chunk, ending="")

    def _location(self, value: str) -> Location:
        kind, _, target = value.partition(":")
        candidates = Location.objects.filter(type=kind, target=target) if kind in Location.Type.values else None
        if candidates is None or not candidates.exists():
            candidates = Location.objects.filter(target=value)
        found = list(candidates[:2])
        if len(found) != 1:
            raise CommandError(f"No location {value!r}." if not found else f"{value!r} names several locations.")
        return found[0]

    def _entities(self, refs: list[str]) -> list[Entity]:
        keys = []
        for value in refs:
            try:
                keys.append(parse_ref(value).key)
            except RefError as error:
                raise CommandError(f"--ref {value!r}: {error} (write kind:namespace/name)") from None
        entities = {
            entity.ref_key: entity
            for entity in Entity.objects.filter(ref_key__in=keys).only("pk", "ref_key", "document")
        }
        missing = [value for value, key in zip(refs, keys, strict=True) if key not in entities]
        if missing:
            raise CommandError(f"No such entity: {', '.join(missing)}.")
        return [entities[key] for key in dict.fromkeys(keys)]
