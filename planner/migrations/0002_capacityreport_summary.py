from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("planner", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="capacityreport",
            name="summary",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Small digest: per-dimension totals (history for the forecast), run-out days, risk counts.",
            ),
        ),
    ]
