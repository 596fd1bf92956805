"""Staff (DOMAIN.md §1, §4): departments and positions of a project's hierarchy."""
