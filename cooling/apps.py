from django.apps import AppConfig


class CoolingConfig(AppConfig):
    name = "cooling"
    verbose_name = "Cooling"
