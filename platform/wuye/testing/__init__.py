"""Wuye's pytest plugin (registered in pyproject: `-p wuye.testing.plugin`) and its factories."""
