"""A zone assignment's project is its member's project and its zone's project, in the database: a zone
customer manager cannot be given a zone of another project, and a member who still has zones cannot be
moved to another project. (Django has no composite foreign keys; see estate 0002.)"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE staff_zoneassignment ADD CONSTRAINT staff_assignment_member_project FOREIGN KEY "
    "(member_id, project_id) REFERENCES staff_staffmember (id, project_id) ON DELETE CASCADE "
    "DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE staff_zoneassignment ADD CONSTRAINT staff_assignment_zone_project FOREIGN KEY "
    "(project_id, zone_id) REFERENCES estate_zone (project_id, id) DEFERRABLE INITIALLY DEFERRED",
]
BACKWARD = [
    "ALTER TABLE staff_zoneassignment DROP CONSTRAINT staff_assignment_member_project",
    "ALTER TABLE staff_zoneassignment DROP CONSTRAINT staff_assignment_zone_project",
]


class Migration(migrations.Migration):
    dependencies = [("staff", "0002_staff_members"), ("estate", "0002_composite_keys")]

    operations = [migrations.RunSQL(forward, backward) for forward, backward in zip(FORWARD, BACKWARD, strict=True)]
