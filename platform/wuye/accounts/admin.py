"""Accounts are managed through the portal and the vendor console, not Django's admin."""
