"""Departments and positions (部门、岗位) of DOMAIN.md §1, seeded for every new company and editable."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.core.ids import uuid7
from wuye.core.models import TimeStampedModel
from wuye.core.scope import Reach

# How far a position's authority reaches: the same three reaches as roles.
Scope = Reach


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


class StaffMember(TimeStampedModel):
    """A person's place in the organisation (人员档案): position, department, project and — for zone
    customer managers — zones. Their roles (what they may do) are on the account; this says where."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_member")
    position = models.ForeignKey(Position, on_delete=models.PROTECT, null=True, blank=True, related_name="members")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, blank=True, related_name="members")
    # No project: the member works at company level (head office).
    project = models.ForeignKey(
        "estate.Project", on_delete=models.PROTECT, null=True, blank=True, related_name="staff_members"
    )
    is_team_leader = models.BooleanField(_("team leader"), default=False)  # 队长、班长、组长
    employee_number = models.CharField(_("employee number"), max_length=30, blank=True)

    class Meta:
        ordering = ["user__name"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        constraints = [
            # The target of the composite key that keeps a member's zones in the member's project.
            models.UniqueConstraint(fields=["id", "project"], name="staff_member_id_project"),
            models.UniqueConstraint(
                fields=["employee_number"], condition=~models.Q(employee_number=""), name="staff_member_number_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(is_team_leader=False) | models.Q(department__isnull=False),
                name="staff_member_leader_has_department",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)


class ZoneAssignment(models.Model):
    """A zone a zone customer manager looks after. The project is the member's and the zone's at once:
    two composite foreign keys (migration 0003) refuse a zone of another project in the database."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    member = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="zone_assignments")
    project = models.ForeignKey("estate.Project", on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey("estate.Zone", on_delete=models.PROTECT, related_name="assignments")

    class Meta:
        verbose_name = _("zone assignment")
        verbose_name_plural = _("zone assignments")
        constraints = [models.UniqueConstraint(fields=["member", "zone"], name="staff_zone_assignment_unique")]

    def __str__(self) -> str:
        return f"{self.member} → {self.zone}"
