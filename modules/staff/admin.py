"""Departments and positions are edited in the company portal, not Django's admin."""
