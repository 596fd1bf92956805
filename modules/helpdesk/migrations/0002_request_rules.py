"""What the database enforces about requests, whatever code writes:

- a request's unit, building and zone lie in its project, and a reception entry's too (composite foreign
  keys onto estate's (project_id, id) keys): a request filed in project A cannot point at a unit of B;
- a request's timeline (helpdesk_requestevent) is append-only: UPDATE and DELETE raise.
"""

from django.db import migrations

KEYS = [
    # (table, constraint, columns, parent table, parent columns)
    ("helpdesk_request", "helpdesk_request_unit_in_project", "project_id, unit_id", "estate_unit", "project_id, id"),
    ("helpdesk_request", "helpdesk_request_building_in_project", "project_id, building_id", "estate_building",
     "project_id, id"),
    ("helpdesk_request", "helpdesk_request_zone_in_project", "project_id, zone_id", "estate_zone", "project_id, id"),
    ("helpdesk_receptionentry", "helpdesk_reception_unit_in_project", "project_id, unit_id", "estate_unit",
     "project_id, id"),
]  # fmt: skip

FORWARD = """
CREATE OR REPLACE FUNCTION helpdesk_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a request''s timeline is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER helpdesk_requestevent_append_only BEFORE UPDATE OR DELETE ON helpdesk_requestevent
    FOR EACH ROW EXECUTE FUNCTION helpdesk_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS helpdesk_requestevent_append_only ON helpdesk_requestevent;
DROP FUNCTION IF EXISTS helpdesk_refuse_change();
"""


def _key(table: str, name: str, columns: str, parent: str, parent_columns: str) -> str:
    return (
        f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
        f"REFERENCES {parent} ({parent_columns}) DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_initial"), ("estate", "0002_composite_keys")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        *[migrations.RunSQL(_key(*key), f"ALTER TABLE {key[0]} DROP CONSTRAINT {key[1]}") for key in KEYS],
    ]
