from django import forms
from django.core.exceptions import ValidationError

from csrisk.forms import add_service_errors


class F(forms.Form):
    name = forms.CharField()


def test_field_errors_land_on_their_field_and_others_on_the_form():
    form = F({"name": "x"})
    form.is_valid()
    add_service_errors(form, ValidationError({"name": "taken", "owner": "not yours"}))
    assert form.errors["name"] == ["taken"]
    assert form.non_field_errors() == ["not yours"]


def test_a_plain_message_becomes_a_form_error_not_a_crash():
    form = F({"name": "x"})
    form.is_valid()
    add_service_errors(form, ValidationError("This CTA cannot be closed now."))
    assert form.non_field_errors() == ["This CTA cannot be closed now."]
