"""Writes to the book of business. Each checks permission, validates, audits.

One module per concept (zulip's ``zerver/actions``): accounts (``account``), their contacts
(``contact``), the changes among a customer's people (``people``) and CSV imports
(``imports``). The names below are re-exported so ``from accounts.services import x`` keeps
working; inside the package, import from the concept module.
"""

from accounts.services.account import ACCOUNT_FIELDS, account_create, account_update
from accounts.services.contact import (
    CONTACT_FIELDS,
    contact_create,
    contact_update,
    contacts_named_by_source,
)
from accounts.services.imports import (
    CHECK_IMPORT_TASK,
    IMPORT_GIVE_UP_AFTER,
    IMPORT_PROGRESS_KEY,
    IMPORT_RESEND_AFTER,
    RUN_IMPORT_TASK,
    import_job_check,
    import_job_commit,
    import_job_create,
    import_job_progress,
    import_job_run,
    import_jobs_sweep,
)
from accounts.services.people import PeopleChangeIn, PeopleChangeOut, people_changes_record

__all__ = [
    "ACCOUNT_FIELDS",
    "CHECK_IMPORT_TASK",
    "CONTACT_FIELDS",
    "IMPORT_GIVE_UP_AFTER",
    "IMPORT_PROGRESS_KEY",
    "IMPORT_RESEND_AFTER",
    "RUN_IMPORT_TASK",
    "PeopleChangeIn",
    "PeopleChangeOut",
    "account_create",
    "account_update",
    "contact_create",
    "contact_update",
    "contacts_named_by_source",
    "import_job_check",
    "import_job_commit",
    "import_job_create",
    "import_job_progress",
    "import_job_run",
    "import_jobs_sweep",
    "people_changes_record",
]
