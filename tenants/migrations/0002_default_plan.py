from django.db import migrations


def default_plan(apps, schema_editor):
    # Plans live in the public schema only; a company schema has no tenants tables.
    if schema_editor.connection.schema_name != "public":
        return
    Plan = apps.get_model("tenants", "Plan")
    Plan.objects.get_or_create(
        code="standard",
        defaults={"name": "标准版 Standard", "description": "Every module, no unit limit.", "is_default": True},
    )


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]
    operations = [migrations.RunPython(default_plan, migrations.RunPython.noop)]
