"""Wiring: the outside-API clients and the domain services, built from the configuration."""
