"""The organisation has no background work yet."""
