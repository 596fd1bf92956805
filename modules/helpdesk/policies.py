"""Who may do what with the helpdesk, as data. Where (which projects and zones) comes from the user's scope
(wuye.core.scope): a request is in scope through its project and its zone.

Some rights depend on the request, not only on the role, and are checked by the predicates below: the
assignee works on their request; a team leader assigns within their own department; a department's staff
take work from its queue when the department works in grab mode.
"""

from __future__ import annotations

from typing import Any

from wuye.accounts import roles
from wuye.accounts.policies import (
    CLEANING,
    COMPANY_ADMIN,
    CS_MANAGER,
    CS_STAFF,
    ENGINEERING,
    FINANCE,
    LANDSCAPING,
    PROJECT_MANAGER,
    SECURITY,
    ZONE_MANAGER,
)
from wuye.core.policies import allowed

VIEW = "helpdesk.view_request"  # requests of the scope, their timeline and photos
RAISE = "helpdesk.add_request"  # raise a request, log a reception entry
DISPATCH = "helpdesk.dispatch_request"  # send to a department, assign to anyone in it
WORK = "helpdesk.work_request"  # accept, on site, notes, photos, materials, done (their own work)
CLOSE = "helpdesk.close_request"
VISIT = "helpdesk.add_returnvisit"
REPORT = "helpdesk.view_satisfaction"
SETTINGS = "helpdesk.change_deadlinepolicy"  # deadlines and departments' dispatch modes
DUTY_LOG = "helpdesk.add_dutylogentry"
DUTY_CHECK = "helpdesk.check_dutylogentry"  # the CS manager's daily check
RATE_STAFF = "helpdesk.add_staffrating"
VIEW_RATINGS = "helpdesk.view_staffrating"

_everything = [VIEW, RAISE, DISPATCH, WORK, CLOSE, VISIT, REPORT, SETTINGS, DUTY_LOG, DUTY_CHECK, VIEW_RATINGS]
roles.grant(COMPANY_ADMIN, _everything)
roles.grant(PROJECT_MANAGER, _everything)
# The CS manager runs the department: dispatch, close, visits, the daily check, the report, the settings.
roles.grant(CS_MANAGER, _everything)
# The front desk receives owners, raises and dispatches requests, answers consultations, makes visits.
roles.grant(CS_STAFF, [VIEW, RAISE, DISPATCH, WORK, CLOSE, VISIT, DUTY_LOG])
# The zone manager follows every request of their zones, makes visits, rates other departments' staff.
roles.grant(ZONE_MANAGER, [VIEW, RAISE, WORK, VISIT, RATE_STAFF, VIEW_RATINGS])
# Departments do the work; security also keeps the duty log of its posts.
for department_role in (ENGINEERING, CLEANING, LANDSCAPING):
    roles.grant(department_role, [VIEW, RAISE, WORK])
roles.grant(SECURITY, [VIEW, RAISE, WORK, DUTY_LOG])
# Finance sees special services it bills; it does not work on requests.
roles.grant(FINANCE, [VIEW])


def can(user: Any, permission: str) -> bool:
    return allowed(user, permission)
