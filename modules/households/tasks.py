"""No background work yet: imports run through wuye.imports, which calls this module's services."""
