"""Not registered in the Django admin: money is moved only through the fee services (append-only ledger)."""
