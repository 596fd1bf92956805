from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuye.core.scope import Reach
from wuye.core.tenancy import in_public_schema

from . import roles
from .models import User, UserKind

MAX_FAILED_SIGN_INS = 10
FAILED_SIGN_IN_WINDOW = 15 * 60


class SignInForm(AuthenticationForm):
    """E-mail and password; after 10 failures for one e-mail in 15 minutes, further tries are refused
    (the counter is in the company's part of the cache)."""

    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The e-mail or the password is wrong."),
        "throttled": _("Too many failed attempts. Try again in 15 minutes."),
        "wrong_area": _("This account cannot sign in here."),
    }

    def _throttle_key(self) -> str:
        return f"signin-failures:{User.objects.normalize_email(self.data.get('username', ''))}"

    def clean(self) -> dict[str, Any]:
        key = self._throttle_key()
        if (cache.get(key) or 0) >= MAX_FAILED_SIGN_INS:
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, FAILED_SIGN_IN_WINDOW)
            raise

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        in_vendor_area = in_public_schema()
        if in_vendor_area != (user.kind == UserKind.VENDOR) or (in_vendor_area and not user.is_staff):
            raise forms.ValidationError(self.error_messages["wrong_area"], code="wrong_area")
        cache.delete(self._throttle_key())


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label=_("New password, again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class ForgotPasswordForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))


class InviteForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=100)
    email = forms.EmailField(label=_("E-mail"))
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["roles"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = list(roles.names().items())


def _permission_labels(codenames: list[str]) -> dict[str, str]:
    """Each permission's name in the reader's words, with its codename: one query for all of them."""
    from django.contrib.auth.models import Permission

    wanted = set(codenames)
    labels = {name: name for name in codenames}
    for permission in Permission.objects.select_related("content_type").filter(
        codename__in={name.split(".", 1)[1] for name in wanted}
    ):
        key = f"{permission.content_type.app_label}.{permission.codename}"
        if key in wanted:
            labels[key] = f"{permission.name} ({key})"
    return labels


class RoleForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("a record", "Name"), max_length=100)
    reach = forms.ChoiceField(
        label=_("Reach"),
        choices=Reach.choices,
        help_text=_("Company: everything. Project: the project the person works in. Zones: the zones they look after."),
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    permissions = forms.MultipleChoiceField(label=_("Permissions"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = list(_permission_labels(roles.grantable()).items())  # type: ignore[attr-defined]


class UserRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(label=_("Roles"), widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = choices  # type: ignore[attr-defined]
