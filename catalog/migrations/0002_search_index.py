"""Full-text search over Entity.search_text: a GIN index on PostgreSQL (the 'simple' configuration,
no stemming, since names like 'orders-api' are identifiers, not English). catalog.selectors queries
with the same expression, so the index is used. SQLite, the laptop default, searches without it."""

from django.db import migrations

CREATE = "CREATE INDEX IF NOT EXISTS entity_search_fts ON catalog_entity USING GIN (to_tsvector('simple', search_text))"
DROP = "DROP INDEX IF EXISTS entity_search_fts"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
