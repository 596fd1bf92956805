"""Fixtures come from the plugin `wuye.testing.plugin` (see pyproject.toml)."""
