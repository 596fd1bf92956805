"""Departments and positions (部门、岗位) of DOMAIN.md §1, seeded for every new company and editable."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.core.models import TimeStampedModel


class Scope(models.TextChoices):
    """How far a position's authority reaches."""

    COMPANY = "company", _("Company")
    PROJECT = "project", _("Project")
    ZONE = "zone", _("Zones")


class Department(TimeStampedModel):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    sort_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [models.UniqueConstraint(fields=["name"], name="staff_department_name_unique")]

    def __str__(self) -> str:
        return self.name


class Position(TimeStampedModel):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="positions")
    reports_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="subordinates")
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.PROJECT)
    is_team_leader = models.BooleanField(_("team leader"), default=False)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["department__sort_order", "sort_order", "name"]
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="staff_position_name_unique_in_department"),
            models.CheckConstraint(
                condition=models.Q(scope__in=[c.value for c in Scope]), name="staff_position_scope_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(reports_to=models.F("id")), name="staff_position_not_own_superior"
            ),
        ]

    def __str__(self) -> str:
        return self.name
