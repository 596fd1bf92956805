"""Tenant apps, one per chapter of the handbook (DOMAIN.md). Each lives in every company's schema."""
