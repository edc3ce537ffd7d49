from django.apps import AppConfig


class PlannerConfig(AppConfig):
    name = "planner"
    verbose_name = "Planning"

    def ready(self) -> None:
        # The Celery app is loaded here, not in planner/__init__.py, so that importing planner.engine (or
        # any other pure module) pulls in neither Django nor Celery. Loading it here makes it the current
        # app before any request or command queues a shared_task. ``celery -A planner`` finds it by
        # importing planner.celery itself.
        import planner.celery  # noqa: F401
        from planner import budget_tokens

        budget_tokens.connect()
