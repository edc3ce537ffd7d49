"""The two roles are Django groups; permissions are enforced by planner.api.permissions, not model perms."""

from django.db import migrations

ROLES = ("facilities", "procurement")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def noop(apps, schema_editor):
    """Groups may hold users by now; leave them on reverse."""


class Migration(migrations.Migration):
    dependencies = [("racks", "0002_catalogue"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_roles, noop)]
