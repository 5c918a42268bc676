from django.apps import AppConfig


class CtasConfig(AppConfig):
    """CTAs, playbooks, tasks, chatter, cockpit."""

    name = "ctas"
    verbose_name = "CTAs"
