from __future__ import annotations

from django import forms

from ctas.choices import CtaType, Priority
from ctas.models import CtaReason, Playbook
from scorecards.choices import AreaCode


class CtaCreateForm(forms.Form):
    type = forms.ChoiceField(choices=CtaType.choices, initial=CtaType.RISK)
    area = forms.ChoiceField(
        choices=[("", "— none —"), *AreaCode.choices],
        required=False,
        help_text="A risk CTA belongs to an area; it turns it yellow.",
    )
    reason = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"list": "cta-reasons"}),
        help_text="Pick a configured reason or write your own.",
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.MEDIUM)
    due_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: from the priority (urgent 1 day … low 14).",
    )
    playbook = forms.ModelChoiceField(
        queryset=Playbook.objects.all(), required=False, empty_label="— no playbook —"
    )
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    @staticmethod
    def reasons() -> list[CtaReason]:
        return list(CtaReason.objects.filter(active=True))
