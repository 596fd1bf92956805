"""An entry's item is its line's: the key (line, account) -> the line's becomes (line, account, item), and
the entry's own key to the item goes (the line's checks the item). One check fewer per entry, and on a row
every entry of a run shares (the item's), where two writer sessions would take turns.

An entry without a line has no item and no period either (the check says so), so the key checks every
entry that has one."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("estate", "0002_composite_keys"),
        ("fees", "0004_collection_sums"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE fees_ledgerentry DROP CONSTRAINT fees_entry_on_line_account",
            "ALTER TABLE fees_ledgerentry ADD CONSTRAINT fees_entry_on_line_account FOREIGN KEY (line_id, account_id) "
            "REFERENCES fees_billline (id, account_id) DEFERRABLE INITIALLY DEFERRED",
        ),
        migrations.RemoveConstraint(
            model_name="billline",
            name="fees_line_id_account",
        ),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="fees_entry_line_dimensions",
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="charge_item",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="fees.chargeitem",
            ),
        ),
        migrations.AddConstraint(
            model_name="billline",
            constraint=models.UniqueConstraint(
                fields=("id", "account", "charge_item"), name="fees_line_id_account_item"
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("charge_item__isnull", True), ("line__isnull", True), ("period__isnull", True)),
                    models.Q(("charge_item__isnull", False), ("line__isnull", False), ("period__isnull", False)),
                    _connector="OR",
                ),
                name="fees_entry_line_dimensions",
            ),
        ),
        migrations.RunSQL(
            "ALTER TABLE fees_ledgerentry ADD CONSTRAINT fees_entry_on_line_account_item "
            "FOREIGN KEY (line_id, account_id, charge_item_id) REFERENCES fees_billline (id, account_id, charge_item_id) "
            "DEFERRABLE INITIALLY DEFERRED",
            "ALTER TABLE fees_ledgerentry DROP CONSTRAINT fees_entry_on_line_account_item",
        ),
    ]
