"""Wuye (物业): the Django project and the platform's shared core."""
