"""Indexes for the list's last unindexed filter and sort (docs/benchmarks.md, run 5).

- sort=updated / -updated: a B-tree on (updated_at, id), the sort and its cursor tie-break.
- annotation=key and annotation=key=value: on PostgreSQL a GIN index on the annotations object, with the
  expression Django writes for the filter (`document #> '{metadata,annotations}'`, so the planner matches it);
  catalog.filters asks `?` for a key and `@>` for key=value, both served by GIN's default jsonb_ops. SQLite,
  the laptop default, filters without it.
"""

from django.db import migrations, models

CREATE = (
    "CREATE INDEX IF NOT EXISTS entity_annotations_gin ON catalog_entity "
    "USING GIN ((document #> '{metadata,annotations}'))"
)
DROP = "DROP INDEX IF EXISTS entity_annotations_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_location_children"),
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="entity",
            index=models.Index(fields=["updated_at", "id"], name="entity_updated_idx"),
        ),
        migrations.RunPython(create, drop),
    ]
