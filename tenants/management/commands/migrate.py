from .migrate_schemas import Command

__all__ = ["Command"]
