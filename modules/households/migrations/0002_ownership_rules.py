"""Ownership rules the database enforces, whatever code writes:

- the shares of a unit's owners add up to at most 100 % on every day;
- one person's ownership periods of one unit do not overlap.

Written as triggers at the end of each INSERT or UPDATE statement, checking every unit the statement
touched in one set-based query (an import of 10,000 ownerships is checked once per batch of rows, not
10,000 times). An exclusion constraint cannot sum, and needs btree_gist for the UUID columns, which an
embedded PostgreSQL may not ship. Periods are half-open [starts_on, ends_on). Because the check runs per
statement, a transfer ends the old periods before it starts the new ones (the services do).
"""

from django.db import migrations

CHECK = """
CREATE OR REPLACE FUNCTION households_ownership_check() RETURNS trigger AS $$
DECLARE
    found_unit uuid;
    peak numeric;
BEGIN
    -- Tables are named through the schema the trigger fired in: the session's search_path may point
    -- elsewhere, and the schema may have been renamed from a spare since the function was made.
    EXECUTE format(
        'SELECT a.unit_id FROM %1$I.households_ownership a
           JOIN %1$I.households_ownership b
             ON b.unit_id = a.unit_id AND b.person_id = a.person_id AND b.id > a.id
            AND daterange(a.starts_on, a.ends_on) && daterange(b.starts_on, b.ends_on)
          WHERE a.unit_id IN (SELECT DISTINCT unit_id FROM touched)
          LIMIT 1',
        TG_TABLE_SCHEMA)
    INTO found_unit;
    IF found_unit IS NOT NULL THEN
        RAISE EXCEPTION 'ownership periods of one person on unit % overlap', found_unit
            USING ERRCODE = 'exclusion_violation';
    END IF;
    -- A unit's total can only peak on a day some period of it starts: sum the periods covering each.
    EXECUTE format(
        'SELECT unit_id, total FROM (
             SELECT days.unit_id, sum(o.share) AS total
             FROM (SELECT DISTINCT x.unit_id, x.starts_on AS day
                   FROM %1$I.households_ownership x
                   WHERE x.unit_id IN (SELECT DISTINCT unit_id FROM touched)) days
             JOIN %1$I.households_ownership o
               ON o.unit_id = days.unit_id AND daterange(o.starts_on, o.ends_on) @> days.day
             GROUP BY days.unit_id, days.day) totals
          WHERE total > 100
          LIMIT 1',
        TG_TABLE_SCHEMA)
    INTO found_unit, peak;
    IF found_unit IS NOT NULL THEN
        RAISE EXCEPTION 'ownership shares of unit % add up to % percent', found_unit, peak
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER households_ownership_rules_insert
    AFTER INSERT ON households_ownership
    REFERENCING NEW TABLE AS touched
    FOR EACH STATEMENT EXECUTE FUNCTION households_ownership_check();
CREATE TRIGGER households_ownership_rules_update
    AFTER UPDATE ON households_ownership
    REFERENCING NEW TABLE AS touched
    FOR EACH STATEMENT EXECUTE FUNCTION households_ownership_check();
"""

DROP = """
DROP TRIGGER IF EXISTS households_ownership_rules_insert ON households_ownership;
DROP TRIGGER IF EXISTS households_ownership_rules_update ON households_ownership;
DROP FUNCTION IF EXISTS households_ownership_check();
"""


class Migration(migrations.Migration):
    dependencies = [("households", "0001_initial")]

    operations = [migrations.RunSQL(CHECK, DROP)]
