"""URL confs: public.py for the base domain (vendor console), tenant.py for every company's domains.
Tenant modules are wired in by dotted path, like INSTALLED_APPS: the platform imports none of them."""
