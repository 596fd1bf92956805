"""The organisation DOMAIN.md §1 describes, seeded into every new company (then the company's to edit).

Names are written in the company's language at seeding time; codes are stable for code to refer to.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .models import Scope

# (code, name)
DEPARTMENTS = [
    ("management", _("Project management office")),  # 项目管理处
    ("customer_service", _("Customer service department")),  # 客户服务部
    ("security", _("Security and order department")),  # 秩序维护部
    ("engineering", _("Engineering and repairs department")),  # 工程维修部
    ("finance", _("Finance department")),  # 财务部
    ("cleaning", _("Cleaning department")),  # 保洁部
    ("landscaping", _("Landscaping department")),  # 绿化部
]

# (code, name, department code, reports-to code, scope, team leader)
POSITIONS = [
    ("project_manager", _("Project manager"), "management", None, Scope.PROJECT, False),  # 项目经理
    (
        "cs_manager",
        _("Customer service manager"),
        "customer_service",
        "project_manager",
        Scope.PROJECT,
        False,
    ),  # 客户服务部经理
    ("zone_manager", _("Zone customer manager"), "customer_service", "cs_manager", Scope.ZONE, False),  # 分区客户经理
    ("cs_staff", _("Customer service staff"), "customer_service", "cs_manager", Scope.PROJECT, False),  # 客服专员
    ("security_head", _("Head of security and order"), "security", "project_manager", Scope.PROJECT, False),
    ("security_leader", _("Security team leader"), "security", "security_head", Scope.PROJECT, True),  # 队长/班长
    ("security_guard", _("Security guard"), "security", "security_leader", Scope.PROJECT, False),  # 秩序维护员
    ("engineering_head", _("Head of engineering"), "engineering", "project_manager", Scope.PROJECT, False),
    ("engineering_leader", _("Engineering team leader"), "engineering", "engineering_head", Scope.PROJECT, True),
    ("engineer", _("Maintenance engineer"), "engineering", "engineering_leader", Scope.PROJECT, False),  # 维修工
    ("finance_head", _("Head of finance"), "finance", "project_manager", Scope.PROJECT, False),
    ("cashier", _("Cashier"), "finance", "finance_head", Scope.PROJECT, False),  # 收费员
    ("cleaning_head", _("Head of cleaning"), "cleaning", "project_manager", Scope.PROJECT, False),
    ("cleaning_leader", _("Cleaning team leader"), "cleaning", "cleaning_head", Scope.PROJECT, True),
    ("cleaner", _("Cleaner"), "cleaning", "cleaning_leader", Scope.PROJECT, False),
    ("landscaping_head", _("Head of landscaping"), "landscaping", "project_manager", Scope.PROJECT, False),
    ("landscaping_leader", _("Landscaping team leader"), "landscaping", "landscaping_head", Scope.PROJECT, True),
    ("gardener", _("Gardener"), "landscaping", "landscaping_leader", Scope.PROJECT, False),
]
