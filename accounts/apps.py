from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """The book of business: customer accounts, contacts, imports."""

    name = "accounts"
    verbose_name = "Customer accounts"
