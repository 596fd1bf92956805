"""Pages: sign in and out, one-time links, and the company admin's staff accounts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wuye.core.errors import PolicyDenied, ServiceError
from wuye.portal.views import form_errors_add, message_page, refusal

from . import policies, roles, selectors, services
from .forms import ForgotPasswordForm, InviteForm, RoleForm, SetPasswordForm, SignInForm, UserRolesForm
from .models import User
from .policies import acting_user


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


def link(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """An invitation or password-reset link: choose a password, then you are signed in."""
    try:
        user = services.user_from_link(uidb64=uidb64, token=token)
    except ServiceError as exc:
        return refusal(request, exc)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_password_set_from_link(
                uidb64=uidb64, token=token, password=form.cleaned_data["password"]
            )
        except ServiceError as exc:
            form.add_error("password", exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Your password is set. Welcome!"))
            return redirect("/")
    invited = not user.has_usable_password()
    return render(request, "accounts/set_password.html", {"form": form, "invited": invited, "link_user": user})


def forgot_password(request: HttpRequest) -> HttpResponse:
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = User.objects.normalize_email(form.cleaned_data["email"])
        user = User.objects.filter(email=email, is_active=True).first()
        if user is not None:
            services.user_password_reset_send(by=None, user=user)
        # The same answer whether or not the account exists: the page does not reveal who has one.
        return message_page(
            request,
            _("Check your e-mail"),
            _("If %(email)s has an account here, a link to choose a new password is on its way.") % {"email": email},
        )
    return render(request, "accounts/forgot_password.html", {"form": form})


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    try:
        users = selectors.staff_list(
            viewer=acting_user(request), search=request.GET.get("q", "").strip(), status=request.GET.get("status", "")
        )
    except ServiceError as exc:
        return refusal(request, exc)
    role_names = roles.names()
    rows = [(member, [role_names.get(g.name, g.name) for g in member.groups.all()]) for member in users[:500]]
    return render(
        request,
        "accounts/staff_list.html",
        {
            "rows": rows,
            "q": request.GET.get("q", ""),
            "status": request.GET.get("status", ""),
            "counts": selectors.staff_counts(),
            "can_invite": policies.can_invite_staff(request.user),
        },
    )


@login_required
def staff_invite(request: HttpRequest) -> HttpResponse:
    if not policies.can_invite_staff(request.user):
        return refusal(request, PolicyDenied(_("You do not have permission to do this.")))
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_invite(by=acting_user(request), **form.cleaned_data)
        except ServiceError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
            return redirect("accounts:staff_detail", user_id=user.pk)
    return render(request, "accounts/staff_invite.html", {"form": form})


@login_required
def staff_detail(request: HttpRequest, user_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        member = selectors.staff_get(viewer=viewer, user_id=user_id)
    except ServiceError as exc:
        return refusal(request, exc)
    roles_form = None
    if policies.can_assign_roles(viewer) and policies.can_view_roles(viewer):
        choices = [(role.group.name, selectors.role_display_name(role)) for role in selectors.role_list(viewer=viewer)]
        roles_form = UserRolesForm(choices=choices, initial={"roles": selectors.role_codes_of(member)})
    return render(
        request,
        "accounts/staff_detail.html",
        {
            "member": member,
            "roles": [roles.names().get(code, code) for code in selectors.role_codes_of(member)],
            "roles_form": roles_form,
            "can_deactivate": policies.can_deactivate_staff(viewer) and member.pk != viewer.pk,
            "can_reset": policies.can_reset_staff_password(viewer),
        },
    )


@login_required
@require_POST
def staff_roles(request: HttpRequest, user_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        member = selectors.staff_get(viewer=viewer, user_id=user_id)
        services.user_roles_set(by=viewer, user=member, roles=request.POST.getlist("roles"))
    except ServiceError as exc:
        if exc.http_status in (403, 404):
            return refusal(request, exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Roles saved."))
    return redirect("accounts:staff_detail", user_id=user_id)


@login_required
def role_list(request: HttpRequest) -> HttpResponse:
    viewer = acting_user(request)
    try:
        rows = [(role, selectors.role_display_name(role)) for role in selectors.role_list(viewer=viewer)]
    except ServiceError as exc:
        return refusal(request, exc)
    return render(request, "accounts/role_list.html", {"rows": rows, "can_manage": policies.can_manage_roles(viewer)})


@login_required
def role_edit(request: HttpRequest, role_id: int | None = None) -> HttpResponse:
    viewer = acting_user(request)
    try:
        role = selectors.role_get(viewer=viewer, role_id=role_id) if role_id is not None else None
        if not policies.can_manage_roles(viewer) or (role is not None and role.is_system):
            raise PolicyDenied(_("The platform's roles cannot be changed; make a role of your own."))
    except ServiceError as exc:
        return refusal(request, exc)
    initial = (
        {
            "name": role.name,
            "reach": role.reach,
            "description": role.description,
            "permissions": selectors.role_permissions(role),
        }
        if role
        else {}
    )
    form = RoleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if role is None:
                services.role_create(by=viewer, **form.cleaned_data)
            else:
                services.role_update(by=viewer, role=role, **form.cleaned_data)
        except ServiceError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("Role saved."))
            return redirect("accounts:role_list")
    return render(request, "accounts/role_form.html", {"form": form, "role": role})


@login_required
@require_POST
def role_delete(request: HttpRequest, role_id: int) -> HttpResponse:
    viewer = acting_user(request)
    try:
        services.role_delete(by=viewer, role=selectors.role_get(viewer=viewer, role_id=role_id))
    except ServiceError as exc:
        if exc.http_status in (403, 404):
            return refusal(request, exc)
        messages.error(request, exc.message)
        return redirect("accounts:role_edit", role_id=role_id)
    messages.success(request, _("Role deleted."))
    return redirect("accounts:role_list")


# action in the URL -> (the service call, what to tell the person afterwards)
_ACTIONS: dict[str, tuple[Callable[[User, User], Any], Any]] = {
    "deactivate": (lambda by, user: services.user_deactivate(by=by, user=user), gettext_lazy("Account deactivated.")),
    "reactivate": (lambda by, user: services.user_reactivate(by=by, user=user), gettext_lazy("Account reactivated.")),
    "password-reset": (
        lambda by, user: services.user_password_reset_send(by=by, user=user),
        gettext_lazy("A link to choose a new password was e-mailed."),
    ),
}


@login_required
@require_POST
def staff_action(request: HttpRequest, user_id: str, action: str) -> HttpResponse:
    if action not in _ACTIONS:
        return message_page(request, _("Not found"), _("Unknown action."), status=404)
    run, done_message = _ACTIONS[action]
    try:
        member = selectors.staff_get(viewer=acting_user(request), user_id=user_id)
        run(acting_user(request), member)
    except ServiceError as exc:
        if exc.http_status in (403, 404):
            return refusal(request, exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, done_message)
    return redirect("accounts:staff_detail", user_id=user_id)
