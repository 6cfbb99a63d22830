"""Content hashes for the events written before there were any, and the triggers of the sealed log.

On PostgreSQL the trigger of 0002 refused every UPDATE and DELETE of an event. It now lets exactly two
through, the ones the sealer and the retention task make (docs/audit.md):

- an UPDATE that sets seal_id on an unsealed event and changes nothing else;
- a DELETE of an event whose seal has been archived to a file.

Seals and archive records get triggers of their own: a seal takes one change (its archive, once), an archive
record none. SQLite, the laptop default, relies on the models' guards; `audit_verify` catches what bypasses
them on either database.
"""

from django.db import migrations

EVENTS = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
DECLARE
    unsealed audit_auditevent;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seal_id IS NULL AND NEW.seal_id IS NOT NULL THEN
        unsealed := NEW;
        unsealed.seal_id := NULL;
        IF to_jsonb(unsealed) = to_jsonb(OLD) THEN
            RETURN NEW;
        END IF;
    END IF;
    IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM audit_auditseal s WHERE s.id = OLD.seal_id AND s.archive_id IS NOT NULL
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

SEALS = """
CREATE OR REPLACE FUNCTION audit_seal_append_only() RETURNS trigger AS $$
DECLARE
    unarchived audit_auditseal;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.archive_id IS NULL AND NEW.archive_id IS NOT NULL THEN
        unarchived := NEW;
        unarchived.archive_id := NULL;
        IF to_jsonb(unarchived) = to_jsonb(OLD) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit seals are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_seal_append_only
    BEFORE UPDATE OR DELETE ON audit_auditseal
    FOR EACH ROW EXECUTE FUNCTION audit_seal_append_only();

CREATE OR REPLACE FUNCTION audit_archive_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit archive records are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_archive_append_only
    BEFORE UPDATE OR DELETE ON audit_auditarchive
    FOR EACH ROW EXECUTE FUNCTION audit_archive_append_only();
"""

DROP_SEALS = """
DROP TRIGGER IF EXISTS audit_seal_append_only ON audit_auditseal;
DROP FUNCTION IF EXISTS audit_seal_append_only();
DROP TRIGGER IF EXISTS audit_archive_append_only ON audit_auditarchive;
DROP FUNCTION IF EXISTS audit_archive_append_only();
"""

# 0002's function, for going back.
EVENTS_BEFORE = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    from audit.hashing import HASHED_FIELDS, content_hash

    postgres = schema_editor.connection.vendor == "postgresql"
    AuditEvent = apps.get_model("audit", "AuditEvent")
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only", params=None)
    # The events written before content hashes: hashed as they are now, so the first seal covers them.
    # Through the base manager's plain update (the historical model has no append-only queryset).
    pending = AuditEvent.objects.filter(content_hash="").order_by("id").values("id", *HASHED_FIELDS)
    for row in pending.iterator(chunk_size=2000):
        AuditEvent.objects.filter(pk=row["id"]).update(content_hash=content_hash(row))
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only", params=None)
        schema_editor.execute(EVENTS, params=None)
        schema_editor.execute(SEALS, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SEALS, params=None)
        schema_editor.execute(EVENTS_BEFORE, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_seals")]
    operations = [migrations.RunPython(forwards, backwards)]
