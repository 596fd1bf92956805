"""Who may act in the vendor console: the vendor's own staff, signed in at the base domain."""

from wuye.accounts.policies import is_vendor_staff

__all__ = ["can_operate_companies"]


def can_operate_companies(user: object) -> bool:
    return is_vendor_staff(user)
