from django.apps import AppConfig


class EscalationConfig(AppConfig):
    """Flags to levels 1-3, routing, meetings and agendas."""

    name = "escalation"
    verbose_name = "Escalation"
