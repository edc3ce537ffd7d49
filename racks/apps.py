from django.apps import AppConfig


class RacksConfig(AppConfig):
    name = "racks"
    verbose_name = "Racks, power and hardware"
