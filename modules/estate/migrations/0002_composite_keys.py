"""Composite foreign keys: a record's zone, building or unit must lie in the record's own project.

Django has no composite foreign keys, so they are written here; each points at a (project, id) unique
constraint of the parent, created in 0001. DEFERRABLE INITIALLY DEFERRED like Django's own keys, so a
service may move a building and its units within one transaction. MATCH SIMPLE (the default): a record
without a zone is not checked against zones.
"""

from django.db import migrations

KEYS = [
    # (table, constraint, columns, parent table, parent columns)
    ("estate_building", "estate_building_zone_in_project", "project_id, zone_id", "estate_zone", "project_id, id"),
    ("estate_unit", "estate_unit_building_in_project", "project_id, building_id", "estate_building", "project_id, id"),
    ("estate_unit", "estate_unit_zone_of_building", "building_id, zone_id", "estate_building", "id, zone_id"),
    ("estate_parkingspace", "estate_parking_zone_in_project", "project_id, zone_id", "estate_zone", "project_id, id"),
    ("estate_meter", "estate_meter_unit_in_project", "project_id, unit_id", "estate_unit", "project_id, id"),
    ("estate_facility", "estate_facility_zone_in_project", "project_id, zone_id", "estate_zone", "project_id, id"),
    (
        "estate_facility",
        "estate_facility_building_in_project",
        "project_id, building_id",
        "estate_building",
        "project_id, id",
    ),
]


def _forward(table: str, name: str, columns: str, parent: str, parent_columns: str) -> str:
    return (
        f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
        f"REFERENCES {parent} ({parent_columns}) DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [("estate", "0001_initial")]

    operations = [
        migrations.RunSQL(_forward(*key), f"ALTER TABLE {key[0]} DROP CONSTRAINT {key[1]}") for key in KEYS
    ]
