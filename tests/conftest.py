"""Fixtures come from the plugin `wuye.testing.plugin` (see pyproject.toml). The test database fixture
is re-exported here because a conftest fixture reliably replaces pytest-django's of the same name."""

from wuye.testing.plugin import django_db_setup

__all__ = ["django_db_setup"]
