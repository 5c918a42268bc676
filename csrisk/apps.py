from django.apps import AppConfig


class CsriskConfig(AppConfig):
    """Shared plumbing: internal people (users, roles, teams), the clock, events."""

    name = "csrisk"
    verbose_name = "People and teams"

    def ready(self) -> None:
        from django.core import checks
        from django.core.signals import got_request_exception

        from csrisk import logs, receivers, sso, webhooks

        checks.register(sso.check_configuration, checks.Tags.security)

        got_request_exception.connect(
            receivers.remember_database_error, dispatch_uid="csrisk-database-error"
        )
        webhooks.connect()
        # The request id travels with the tasks a request queues (csrisk.logs).
        logs.connect_celery()
