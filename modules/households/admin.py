"""Not registered in the Django admin: the company console pages are the way to manage these records."""
