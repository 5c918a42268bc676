from __future__ import annotations

import json

from django import forms

from accounts.choices import ImportKind

ENCODINGS = [
    ("utf-8", "UTF-8 (recommended)"),
    ("latin-1", "Latin-1 / ISO-8859-1"),
    ("cp1252", "Windows-1252"),
]


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Accounts (name, ARR, renewal date, CRM id, segment, owner e-mail…) or "
        "contacts (account CRM id, name, e-mail, title, roles).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    kind = forms.ChoiceField(
        choices=[("", "Detect from the headers"), *ImportKind.choices], required=False
    )
    encoding = forms.ChoiceField(choices=ENCODINGS, initial="utf-8")
    mapping = forms.CharField(
        required=False,
        label="Column mapping (optional)",
        help_text='JSON of field → column header, e.g. {"arr": "Contract Value"}.',
        widget=forms.TextInput(attrs={"placeholder": '{"arr": "Contract Value"}'}),
    )

    def clean_mapping(self) -> dict[str, str]:
        raw = self.cleaned_data["mapping"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg}.") from None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise forms.ValidationError('Use an object of strings: {"field": "Column header"}.')
        return value


class AccountForm(forms.ModelForm):
    """Edit an account; owner choices are limited to whom the editor may assign."""

    class Meta:
        from accounts.models import Account

        model = Account
        fields = [
            "name",
            "arr",
            "currency",
            "segment",
            "tier",
            "industry",
            "renewal_date",
            "customer_since",
            "lifecycle_stage",
            "owner",
            "team",
            "crm_id",
            "helpdesk_org_id",
            "hubspot_company_id",
        ]
        widgets = {
            "renewal_date": forms.DateInput(attrs={"type": "date"}),
            "customer_since": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: object, editor: object, **kwargs: object) -> None:
        from accounts.selectors import owner_choices
        from csrisk.roles import Role

        super().__init__(*args, **kwargs)
        owners = owner_choices()
        if editor.is_org_wide:  # type: ignore[attr-defined]
            pass
        elif editor.role == Role.TEAM_LEAD:  # type: ignore[attr-defined]
            owners = owners.filter(team__in=editor.led_team_ids())  # type: ignore[attr-defined]
        else:
            owners = owners.filter(pk=self.instance.owner_id)
            self.fields["owner"].disabled = True
            self.fields["owner"].help_text = "Your team lead can reassign this account."
        self.fields["owner"].queryset = owners
        self._limit_teams(editor)
        self.fields["currency"].widget.attrs["pattern"] = "[A-Z]{3}"

    def _limit_teams(self, editor: object) -> None:
        """Offer the teams the editor may move this account to (accounts.rules)."""
        from django.db.models import Q

        from accounts.rules import can_move_account
        from csrisk.models import Team

        current = self.instance.team_id
        teams = Team.objects.all()
        if not editor.is_org_wide:  # type: ignore[attr-defined]
            led = editor.led_team_ids()  # type: ignore[attr-defined]
            if can_move_account(editor, current, led[0] if led else None):  # type: ignore[arg-type]
                teams = teams.filter(Q(pk__in=led) | Q(pk=current))
            else:
                teams = teams.filter(pk=current)
                self.fields["team"].disabled = True
                self.fields["team"].help_text = "A team lead, the VP or the CEO moves accounts."
        self.fields["team"].queryset = teams

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise forms.ValidationError("Use a 3-letter currency code, e.g. USD.")
        return value
