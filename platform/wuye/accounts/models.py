"""The user model, one table per schema: the public schema holds the vendor's staff, each company's
schema holds that company's staff and owners. A user of one company does not exist in another's schema."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, Group, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.core.ids import uuid7
from wuye.core.scope import Reach


class UserKind(models.TextChoices):
    VENDOR = "vendor", _("Vendor staff")
    STAFF = "staff", _("Company staff")
    OWNER = "owner", _("Owner")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return (email or "").strip().lower()

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=self.normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)  # None gives an unusable password: the user sets one from an e-mail
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("kind", UserKind.VENDOR)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # Stored lowercase (a check constraint), so the unique index is also case-insensitive.
    email = models.EmailField(_("e-mail"), max_length=254, unique=True)
    name = models.CharField(_("full name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=UserKind.choices, default=UserKind.STAFF)
    language = models.CharField(_("language"), max_length=10, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Django's flag for the admin site; only the vendor's staff have it.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    invited_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("invited by")
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["name", "email"]
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="accounts_user_email_lowercase"),
            models.CheckConstraint(condition=~models.Q(email=""), name="accounts_user_email_present"),
            models.CheckConstraint(
                condition=models.Q(kind__in=[choice.value for choice in UserKind]), name="accounts_user_kind_valid"
            ),
        ]
        permissions = [
            ("invite_user", "Can invite staff"),
            ("deactivate_user", "Can deactivate and reactivate staff"),
            ("reset_user_password", "Can send a password reset to staff"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    @property
    def has_signed_up(self) -> bool:
        """False while an invitation is pending (no password set yet)."""
        return self.has_usable_password()


class ApiToken(models.Model):
    """A bearer token for the API, bound to the company that issued it.

    The secret is shown once; only its SHA-256 (salted with the company's schema) is stored, and the
    token's text names its company so that presenting it elsewhere is refused before any lookup.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters of the secret, to recognise a token.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Role(models.Model):
    """What an auth group is as a role: how far it reaches, and whether the platform defines it.

    The platform's roles (accounts.roles, is_system) are kept equal to the code by every migration; a
    company's own roles are made from the permissions its administrator holds, and are its to change."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, primary_key=True, related_name="role")
    name = models.CharField(_("name"), max_length=100)
    reach = models.CharField(_("reach"), max_length=10, choices=Reach.choices, default=Reach.PROJECT)
    is_system = models.BooleanField(_("defined by the platform"), default=False)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["-is_system", "name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reach__in=[choice.value for choice in Reach]), name="accounts_role_reach_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name
