from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from csrisk import clock
from scorecards.choices import AreaCode, Color


def _default_until() -> dt.date:
    return clock.today() + dt.timedelta(days=14)


class OverrideForm(forms.Form):
    area = forms.ChoiceField(choices=AreaCode.choices)
    color = forms.ChoiceField(choices=Color.choices, label="Colour")
    reason = forms.CharField(
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "Why the measures are wrong here"}),
    )
    expires_at = forms.DateField(
        label="Until",
        initial=_default_until,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The computed colour returns at the end of this day.",
    )

    def clean_expires_at(self) -> dt.datetime:
        day = self.cleaned_data["expires_at"]
        end = dt.datetime.combine(day, dt.time(23, 59, 59))
        return timezone.make_aware(end, timezone.get_current_timezone())
