"""The vendor's layer (public schema): companies, their domains and plans; provisioning, suspension."""
