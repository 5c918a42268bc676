"""Plain DRF tokens (rest_framework.authtoken, no longer installed) become hashed
ApiTokens with the same key, so running integrations keep working; the plain rows are
then deleted. The old table itself stays (its migrations belong to DRF); it is empty."""

import datetime as dt
import hashlib

from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime


def _aware(value, default):
    """SQLite hands the raw column back as text, PostgreSQL as an aware datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return default
    return timezone.make_aware(value, dt.UTC) if timezone.is_naive(value) else value


def hash_plain_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("csrisk", "ApiToken")
    User = apps.get_model("csrisk", "User")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
    roles = dict(User.objects.filter(pk__in=[r[1] for r in rows]).values_list("pk", "role"))
    now = timezone.now()
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                user_id=user_id,
                name="migrated DRF token",
                prefix=key[:8],
                digest=hashlib.sha256(key.encode()).hexdigest(),
                sources=[],
                created_at=_aware(created, now),
                # People's old tokens had no expiry: give them the default lifetime
                # from today; integrations keep theirs until revoked.
                expires_at=None
                if roles.get(user_id) == "integration"
                else now + dt.timedelta(days=90),
            )
            for key, user_id, created in rows
            if user_id in roles
        ],
        ignore_conflicts=True,
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):
    dependencies = [("csrisk", "0006_api_token")]

    operations = [migrations.RunPython(hash_plain_tokens, migrations.RunPython.noop)]
