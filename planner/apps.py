from django.apps import AppConfig


class PlannerConfig(AppConfig):
    name = "planner"
    verbose_name = "Planning"

    def ready(self) -> None:
        from planner import budget_tokens

        budget_tokens.connect()
