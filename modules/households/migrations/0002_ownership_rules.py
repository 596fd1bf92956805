"""Ownership rules the database enforces, at commit (a transfer ends and starts periods in one go):

- the shares of a unit's owners add up to at most 100 % on every day;
- one person's ownership periods of one unit do not overlap.

Written as a deferred constraint trigger: an exclusion constraint cannot sum, and needs btree_gist for
the UUID columns, which an embedded PostgreSQL may not ship. Periods are half-open [starts_on, ends_on).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION households_ownership_check() RETURNS trigger AS $$
DECLARE
    overlapping boolean;
    peak numeric;
BEGIN
    -- Deferred to commit, when the session's search_path may point anywhere: name the table through the
    -- schema the trigger fired in (which also survives the schema being renamed from a spare).
    EXECUTE format(
        'SELECT EXISTS (SELECT 1 FROM %1$I.households_ownership o
                        WHERE o.unit_id = $1 AND o.person_id = $2 AND o.id <> $3
                          AND daterange(o.starts_on, o.ends_on) && daterange($4, $5))',
        TG_TABLE_SCHEMA)
    INTO overlapping USING NEW.unit_id, NEW.person_id, NEW.id, NEW.starts_on, NEW.ends_on;
    IF overlapping THEN
        RAISE EXCEPTION 'ownership periods of one person on unit % overlap', NEW.unit_id
            USING ERRCODE = 'exclusion_violation';
    END IF;
    -- The total can only peak on a day some period starts: check each such day inside the new period.
    EXECUTE format(
        'SELECT max(total) FROM (
             SELECT days.day, sum(o.share) AS total
             FROM (SELECT DISTINCT greatest(x.starts_on, $2) AS day
                   FROM %1$I.households_ownership x
                   WHERE x.unit_id = $1 AND daterange(x.starts_on, x.ends_on) && daterange($2, $3)) days
             JOIN %1$I.households_ownership o
               ON o.unit_id = $1 AND daterange(o.starts_on, o.ends_on) @> days.day
             GROUP BY days.day) totals',
        TG_TABLE_SCHEMA)
    INTO peak USING NEW.unit_id, NEW.starts_on, NEW.ends_on;
    IF peak > 100 THEN
        RAISE EXCEPTION 'ownership shares of unit % add up to % percent', NEW.unit_id, peak
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER households_ownership_rules
    AFTER INSERT OR UPDATE ON households_ownership
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION households_ownership_check();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS households_ownership_rules ON households_ownership;
DROP FUNCTION IF EXISTS households_ownership_check();
"""


class Migration(migrations.Migration):
    dependencies = [("households", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
