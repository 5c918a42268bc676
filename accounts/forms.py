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
