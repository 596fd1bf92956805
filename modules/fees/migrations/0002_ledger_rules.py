"""The rules of money the database enforces, whatever code writes:

- bills, bill lines, payments, voids, refunds and ledger entries are append-only: UPDATE and DELETE raise;
- a bill's lines, a line's entries and an entry's project belong to one account (composite foreign keys);
- no line is paid beyond what it owes, and no account's prepaid credit goes below zero (a trigger at
  the end of each INSERT statement on the ledger, checking only the lines and accounts whose balance
  that statement could have lowered: charges, the bulk of a bill run, are not checked);
- the validity periods of one item's tariffs for one project and kind do not overlap.

Triggers name tables through the schema they fired in (TG_TABLE_SCHEMA): the session's search_path may
point elsewhere, and a company's schema may have been renamed from a spare since the function was made.
"""

from django.db import migrations

APPEND_ONLY = ["fees_bill", "fees_billline", "fees_payment", "fees_paymentvoid", "fees_refund", "fees_ledgerentry"]

KEYS = [
    # (table, constraint, columns, parent table, parent columns)
    ("fees_billline", "fees_line_on_bill_account", "bill_id, account_id", "fees_bill", "id, account_id"),
    ("fees_ledgerentry", "fees_entry_on_line_account", "line_id, account_id", "fees_billline", "id, account_id"),
    ("fees_ledgerentry", "fees_entry_in_account_project", "account_id, project_id", "fees_account", "id, project_id"),
    ("fees_account", "fees_account_unit_in_project", "project_id, unit_id", "estate_unit", "project_id, id"),
]

FORWARD = """
CREATE OR REPLACE FUNCTION fees_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'money is append-only: % on % refused; correct it with a reversing entry', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION fees_ledger_check() RETURNS trigger AS $$
DECLARE
    found uuid;
    total numeric;
BEGIN
    EXECUTE format(
        'SELECT e.line_id, sum(e.amount) FROM %1$I.fees_ledgerentry e
          WHERE e.line_id IN (SELECT DISTINCT line_id FROM touched WHERE line_id IS NOT NULL AND amount < 0)
          GROUP BY e.line_id HAVING sum(e.amount) < 0 LIMIT 1',
        TG_TABLE_SCHEMA)
    INTO found, total;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'bill line % would be paid beyond what it owes (balance %)', found, total
            USING ERRCODE = 'check_violation';
    END IF;
    EXECUTE format(
        'SELECT e.account_id, sum(e.amount) FROM %1$I.fees_ledgerentry e
          WHERE e.line_id IS NULL
            AND e.account_id IN (SELECT DISTINCT account_id FROM touched WHERE line_id IS NULL AND amount > 0)
          GROUP BY e.account_id HAVING sum(e.amount) > 0 LIMIT 1',
        TG_TABLE_SCHEMA)
    INTO found, total;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'account % would use more prepayment than it has (%)', found, -total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER fees_ledger_balances
    AFTER INSERT ON fees_ledgerentry
    REFERENCING NEW TABLE AS touched
    FOR EACH STATEMENT EXECUTE FUNCTION fees_ledger_check();

CREATE OR REPLACE FUNCTION fees_tariff_check() RETURNS trigger AS $$
DECLARE
    found uuid;
BEGIN
    EXECUTE format(
        'SELECT a.id FROM %1$I.fees_tariff a
           JOIN %1$I.fees_tariff b
             ON b.charge_item_id = a.charge_item_id AND b.project_id = a.project_id
            AND b.applies_to = a.applies_to AND b.id <> a.id
            AND daterange(a.valid_from, a.valid_until) && daterange(b.valid_from, b.valid_until)
          WHERE a.id IN (SELECT id FROM touched)
          LIMIT 1',
        TG_TABLE_SCHEMA)
    INTO found;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'tariff % overlaps another of the same item, project and kind', found
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER fees_tariff_no_overlap_insert
    AFTER INSERT ON fees_tariff REFERENCING NEW TABLE AS touched
    FOR EACH STATEMENT EXECUTE FUNCTION fees_tariff_check();
CREATE TRIGGER fees_tariff_no_overlap_update
    AFTER UPDATE ON fees_tariff REFERENCING NEW TABLE AS touched
    FOR EACH STATEMENT EXECUTE FUNCTION fees_tariff_check();
""" + "".join(
    f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION fees_refuse_change();"""
    for table in APPEND_ONLY
)

BACKWARD = (
    "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in APPEND_ONLY)
    + """
DROP TRIGGER IF EXISTS fees_ledger_balances ON fees_ledgerentry;
DROP TRIGGER IF EXISTS fees_tariff_no_overlap_insert ON fees_tariff;
DROP TRIGGER IF EXISTS fees_tariff_no_overlap_update ON fees_tariff;
DROP FUNCTION IF EXISTS fees_ledger_check();
DROP FUNCTION IF EXISTS fees_tariff_check();
DROP FUNCTION IF EXISTS fees_refuse_change();
"""
)


def _key(table: str, name: str, columns: str, parent: str, parent_columns: str) -> str:
    return (
        f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
        f"REFERENCES {parent} ({parent_columns}) DEFERRABLE INITIALLY DEFERRED"
    )


class Migration(migrations.Migration):
    dependencies = [("fees", "0001_initial"), ("estate", "0002_composite_keys")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        *[migrations.RunSQL(_key(*key), f"ALTER TABLE {key[0]} DROP CONSTRAINT {key[1]}") for key in KEYS],
    ]
