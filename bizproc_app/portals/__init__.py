"""Portals: install, update, uninstall, registration and token upkeep."""
