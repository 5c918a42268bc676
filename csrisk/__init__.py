"""csrisk: customer-success risk for the whole company."""

from csrisk.celery import app as celery_app

__all__ = ("celery_app",)
