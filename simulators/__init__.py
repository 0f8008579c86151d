"""Local simulators of external services used by the project."""
