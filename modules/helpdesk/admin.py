"""Not registered in the Django admin: requests change only through the helpdesk services, which keep the
timeline, the deadlines and the notifications in step."""
