"""Writes on accounts. Every function is atomic, keyword-only, and checks its policy first."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.audit import audit_record
from wuye.core.errors import NotFound, PolicyDenied, ServiceError
from wuye.core.models import AuditAction
from wuye.core.policies import require
from wuye.core.queue import enqueue_on_commit
from wuye.core.scope import Reach, scope_forget
from wuye.core.tenancy import current_schema

from . import policies, roles
from .models import ApiToken, Role, User, UserKind
from .tokens import api_token_new, decode_uid, link_tokens


def _clean_email(email: str) -> str:
    email = User.objects.normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise ServiceError(_("Enter a valid e-mail address."), code="invalid_email", field="email") from None
    return email


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Enter a name."), code="name_required", field="name")
    if len(name) > 100:
        raise ServiceError(_("A name has at most 100 characters."), code="name_too_long", field="name")
    return name


def _clean_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), code="weak_password", field="password") from None


def _roles(codes: Sequence[str]) -> list[Group]:
    """The role groups named by `codes`: the platform's and the company's own (a group with a Role)."""
    groups = list(Group.objects.filter(name__in=codes, role__isnull=False))
    unknown = set(codes) - {group.name for group in groups}
    if unknown:
        raise ServiceError(_("Unknown role: %(roles)s") % {"roles": ", ".join(sorted(unknown))}, field="roles")
    return groups


@transaction.atomic
def roles_sync() -> int:
    """Make this schema's role groups hold exactly the permissions the code grants them; returns the
    number of grants added or withdrawn.

    Runs after every migration of a company schema (spares and the template included), like Django's own
    permission creation: a new company's roles are ready in its spare, off the provisioning path, and a
    release that grants a role more reaches every existing company with `wuye migrate`. The roles of the
    registry are the platform's; a company's own roles (other group names) are left alone."""
    grants = {code: set(roles.permissions_of(code)) for code in roles.names()}
    wanted = set().union(*grants.values())
    found = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.filter(
            content_type__app_label__in={name.split(".", 1)[0] for name in wanted},
            codename__in={name.split(".", 1)[1] for name in wanted},
        ).values_list("pk", "content_type__app_label", "codename")
    }
    missing = wanted - set(found)
    if missing:
        raise RuntimeError(f"roles grant permissions this schema does not have: {sorted(missing)}")
    group_ids: dict[str, int] = dict(Group.objects.filter(name__in=grants).values_list("name", "pk"))
    for created in Group.objects.bulk_create([Group(name=code) for code in grants if code not in group_ids]):
        group_ids[created.name] = created.pk
    Role.objects.bulk_create(
        [
            Role(group_id=group_ids[code], name=str(name), reach=roles.reach_of(code), is_system=True)
            for code, name in roles.names().items()
        ],
        update_conflicts=True,
        unique_fields=["group"],
        update_fields=["name", "reach", "is_system"],
    )
    through = Group.permissions.through
    should = {(group_ids[code], found[name]) for code, names in grants.items() for name in names}
    has = set(through.objects.filter(group_id__in=group_ids.values()).values_list("group_id", "permission_id"))
    through.objects.bulk_create([through(group_id=group_id, permission_id=perm) for group_id, perm in should - has])
    withdrawn = has - should
    for group_id, perm in withdrawn:
        through.objects.filter(group_id=group_id, permission_id=perm).delete()
    return len(should - has) + len(withdrawn)


@transaction.atomic
def user_create(
    *,
    email: str,
    name: str,
    password: str | None,
    kind: str = UserKind.STAFF,
    roles: Sequence[str] = (),
    phone: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    invited_by: User | None = None,
) -> User:
    """A user with a password (None: unusable until they follow an invitation). For provisioning and
    the command line; people inviting people go through `user_invite`."""
    email = _clean_email(email)
    name = _clean_name(name)
    if kind not in UserKind.values:
        raise ServiceError(_("Unknown kind of user."), field="kind")
    if User.objects.filter(email=email).exists():
        raise ServiceError(
            _("%(email)s already has an account here.") % {"email": email}, code="email_taken", field="email"
        )
    user = User(email=email, name=name, kind=kind, phone=phone.strip(), is_staff=is_staff, is_superuser=is_superuser)
    if password is None:
        user.invited_by = invited_by
        user.invited_at = timezone.now()
    if password is not None:
        _clean_password(password, user)
    user.set_password(password)
    user.save()
    if roles:
        user.groups.add(*_roles(roles))  # a new user: nothing to compare with, as set() would
    return user


@transaction.atomic
@transaction.atomic
def user_invite(
    *, by: User | None, email: str, name: str, roles: Sequence[str] = (), phone: str = "", send: bool = True
) -> User:
    """Create a staff account without a password and e-mail the person a link to choose one.

    `by` is None only when the platform invites a company's first administrator."""
    if by is not None:
        require(by, policies.INVITE_STAFF)
    user = user_create(email=email, name=name, password=None, roles=roles, phone=phone, invited_by=by)
    if by is not None:  # a company's first administrator is recorded by the platform (CompanyEvent)
        audit_record(
            actor=by,
            action=AuditAction.CREATED,
            instance=user,
            after={"email": user.email, "name": user.name, "roles": sorted(roles)},
        )
    if send:
        _queue_link_mail(user, purpose="invitation")
    return user


def _queue_link_mail(user: User, *, purpose: str, channel: str = "email") -> None:
    from .tasks import link_mail_send

    enqueue_on_commit(link_mail_send, str(user.id), purpose, channel)


def invitation_send(*, user: User, channel: str = "email") -> None:
    """Queue an invitation link to an account without a password, by e-mail or text message ("sms").
    Callers check their own policy (who may invite whom differs for staff and owners)."""
    if user.has_usable_password():
        raise ServiceError(_("This account already has a password."), code="already_signed_up")
    if channel == "sms" and not user.phone:
        raise ServiceError(_("Add a mobile number to send a text message."), code="phone_required", field="phone")
    _queue_link_mail(user, purpose="invitation", channel=channel)


def _active_admin_count() -> int:
    return User.objects.filter(is_active=True, groups__name=policies.COMPANY_ADMIN).distinct().count()


@transaction.atomic
def user_deactivate(*, by: User, user: User, reason: str = "") -> User:
    """Deactivate a staff account: it can no longer sign in, its sessions and API tokens stop working."""
    require(by, policies.DEACTIVATE_STAFF)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == by.pk:
        raise ServiceError(_("You cannot deactivate your own account."), code="self_deactivation")
    if not user.is_active:
        raise ServiceError(_("This account is already deactivated."), code="already_inactive")
    if user.groups.filter(name=policies.COMPANY_ADMIN).exists() and _active_admin_count() <= 1:
        raise ServiceError(_("The last company administrator cannot be deactivated."), code="last_admin")
    user.is_active = False
    user.deactivated_at = timezone.now()
    user.deactivated_by = by
    user.save(update_fields=["is_active", "deactivated_at", "deactivated_by"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(
        actor=by,
        action=AuditAction.CHANGED,
        instance=user,
        before={"active": True},
        after={"active": False, "reason": (reason or "").strip() or None},
    )
    return user


@transaction.atomic
def user_reactivate(*, by: User, user: User) -> User:
    require(by, policies.DEACTIVATE_STAFF)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        raise ServiceError(_("This account is already active."), code="already_active")
    user.is_active = True
    user.deactivated_at = None
    user.deactivated_by = None
    user.save(update_fields=["is_active", "deactivated_at", "deactivated_by"])
    audit_record(actor=by, action=AuditAction.CHANGED, instance=user, before={"active": False}, after={"active": True})
    return user


@transaction.atomic
def user_password_reset_send(*, by: User | None, user: User) -> None:
    """E-mail `user` a link to choose a new password. Staff can trigger it for others (with the
    permission); anyone can for themselves (by=None from the "forgot password" page)."""
    if by is not None and by.pk != user.pk:
        require(by, policies.RESET_STAFF_PASSWORD)
    if not user.is_active:
        raise ServiceError(_("This account is deactivated."), code="inactive")
    _queue_link_mail(user, purpose="invitation" if not user.has_usable_password() else "password_reset")


def user_from_link(*, uidb64: str, token: str) -> User:
    """The user a one-time link was made for, or NotFound when it is unknown, spent or expired."""
    user_id = decode_uid(uidb64)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None or not link_tokens.check_token(user, token):
        raise NotFound(_("This link is invalid or has expired. Ask for a new one."), code="link_invalid")
    return user


@transaction.atomic
def user_password_set_from_link(*, uidb64: str, token: str, password: str) -> User:
    user = user_from_link(uidb64=uidb64, token=token)
    _clean_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_language_set(*, user: User, language: str) -> User:
    from django.conf import settings

    if language not in dict(settings.LANGUAGES):
        raise ServiceError(_("Unknown language."), field="language")
    user.language = language
    user.save(update_fields=["language"])
    return user


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """A new API token for `user`; returns it and its text, which is shown only this once."""
    if not user.is_active:
        raise PolicyDenied(_("This account is deactivated."))
    name = (name or "").strip() or "API"
    if len(name) > 100:
        raise ServiceError(_("A name has at most 100 characters."), field="name")
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise ServiceError(_("A token expires after 1 to 3650 days."), field="expires_in_days")
    raw, prefix, key_hash = api_token_new(current_schema())
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        expires_at=timezone.now() + dt.timedelta(days=expires_in_days) if expires_in_days else None,
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, by: User, token: ApiToken) -> ApiToken:
    if token.user_id != by.pk:
        require(by, policies.DEACTIVATE_STAFF)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def expired_tokens_purge(*, older_than_days: int = 90) -> int:
    """Delete tokens that expired or were revoked long ago (they authenticate nothing)."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    deleted, _detail = ApiToken.objects.filter(Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)).delete()
    return deleted


# ------------------------------------------------------------------------------------------ roles
def _permissions(codenames: Sequence[str]) -> list[Permission]:
    """Permissions a company may put in a role of its own: those its administrator holds."""
    wanted = set(codenames)
    outside = wanted - set(roles.grantable())
    if outside:
        raise ServiceError(
            _("These permissions cannot be given: %(names)s") % {"names": ", ".join(sorted(outside))},
            code="permission_unknown",
            field="permissions",
        )
    found = [
        permission
        for permission in Permission.objects.select_related("content_type").filter(
            content_type__app_label__in={name.split(".", 1)[0] for name in wanted},
            codename__in={name.split(".", 1)[1] for name in wanted},
        )
        if f"{permission.content_type.app_label}.{permission.codename}" in wanted
    ]
    if not found:
        raise ServiceError(
            _("Give the role at least one permission."), code="permissions_required", field="permissions"
        )
    return found


def _role_snapshot(role: Role) -> dict[str, object]:
    return {
        "name": role.name,
        "reach": role.reach,
        "description": role.description,
        "permissions": sorted(
            f"{p.content_type.app_label}.{p.codename}" for p in role.group.permissions.select_related("content_type")
        ),
    }


@transaction.atomic
def role_create(*, by: User, name: str, reach: str, permissions: Sequence[str], description: str = "") -> Role:
    """A role of the company's own, made from permissions its administrator holds."""
    require(by, policies.MANAGE_ROLES)
    name = _clean_name(name)
    if reach not in Reach.values:
        raise ServiceError(_("Choose how far the role reaches."), code="reach_invalid", field="reach")
    if Role.objects.filter(name=name).exists():
        raise ServiceError(_("A role with this name exists."), code="role_name_taken", field="name")
    granted = _permissions(permissions)
    group = Group.objects.create(name=f"own_{secrets.token_hex(6)}")
    group.permissions.set(granted)
    role = Role.objects.create(group=group, name=name, reach=reach, is_system=False, description=description.strip())
    audit_record(actor=by, action=AuditAction.CREATED, instance=role, after=_role_snapshot(role))
    return role


@transaction.atomic
def role_update(
    *,
    by: User,
    role: Role,
    name: str | None = None,
    reach: str | None = None,
    permissions: Sequence[str] | None = None,
    description: str | None = None,
) -> Role:
    require(by, policies.MANAGE_ROLES)
    role = Role.objects.select_for_update().select_related("group").get(pk=role.pk)
    if role.is_system:
        raise ServiceError(_("The platform's roles cannot be changed; make a role of your own."), code="system_role")
    before = _role_snapshot(role)
    if name is not None:
        name = _clean_name(name)
        if Role.objects.filter(name=name).exclude(pk=role.pk).exists():
            raise ServiceError(_("A role with this name exists."), code="role_name_taken", field="name")
        role.name = name
    if reach is not None:
        if reach not in Reach.values:
            raise ServiceError(_("Choose how far the role reaches."), code="reach_invalid", field="reach")
        role.reach = reach
    if description is not None:
        role.description = description.strip()
    if permissions is not None:
        role.group.permissions.set(_permissions(permissions))
    role.save()
    audit_record(actor=by, action=AuditAction.CHANGED, instance=role, before=before, after=_role_snapshot(role))
    return role


@transaction.atomic
def role_delete(*, by: User, role: Role) -> None:
    require(by, policies.MANAGE_ROLES)
    role = Role.objects.select_for_update().select_related("group").get(pk=role.pk)
    if role.is_system:
        raise ServiceError(_("The platform's roles cannot be deleted."), code="system_role")
    if role.group.user_set.exists():
        raise ServiceError(_("Someone still has this role; take it from them first."), code="role_in_use")
    before = _role_snapshot(role)
    audit_record(actor=by, action=AuditAction.DELETED, instance=role, before=before)
    role.group.delete()


@transaction.atomic
def user_roles_set(*, by: User, user: User, roles: Sequence[str]) -> User:
    """Give a staff account exactly these roles. Nobody gives a role that can do more than they can, and
    the last active company administrator keeps the role."""
    require(by, policies.ASSIGN_ROLES)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.kind != UserKind.STAFF:
        raise ServiceError(_("Only staff accounts have roles."), code="not_staff")
    groups = _roles(roles)
    held_by_giver = by.get_all_permissions()
    for group in groups:
        beyond = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        if not by.is_superuser and not beyond <= held_by_giver:
            raise PolicyDenied(_("You cannot give a role that may do more than you may."))
    before = sorted(user.groups.values_list("name", flat=True))
    had_admin = policies.COMPANY_ADMIN in before
    if had_admin and policies.COMPANY_ADMIN not in roles and user.is_active and _active_admin_count() <= 1:
        raise ServiceError(_("The last company administrator keeps the role."), code="last_admin", field="roles")
    user.groups.set(groups)
    scope_forget([user])
    audit_record(
        actor=by,
        action=AuditAction.CHANGED,
        instance=user,
        before={"roles": before},
        after={"roles": sorted(group.name for group in groups)},
    )
    return user
