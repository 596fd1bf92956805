from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Plan
from .selectors import timezone_names


def _slug_help_text() -> str:
    return gettext("The company's address: <slug>.%(base)s. Lowercase letters, digits and hyphens.") % {
        "base": settings.BASE_DOMAIN
    }


# Lazy, so the help is translated when the form is shown, not once when this module is imported.
_slug_help = lazy(_slug_help_text, str)


class CompanyCreateForm(forms.Form):
    name = forms.CharField(label=_("Company name"), max_length=200)
    slug = forms.CharField(
        label=_("Slug"),
        max_length=40,
        help_text=_slug_help(),
    )
    admin_name = forms.CharField(label=_("Administrator's name"), max_length=100)
    admin_email = forms.EmailField(
        label=_("Administrator's e-mail"), help_text=_("They receive an invitation to choose a password.")
    )
    plan = forms.ModelChoiceField(label=_("Plan"), queryset=Plan.objects.all(), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="zh-hans")
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="CNY")
    timezone_name = forms.ChoiceField(
        label=_("Time zone"),
        initial="Asia/Shanghai",
        choices=[(tz, tz) for tz in sorted(timezone_names())],
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )


class DomainForm(forms.Form):
    domain = forms.CharField(label=_("Domain"), max_length=253)
