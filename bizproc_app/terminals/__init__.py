"""Terminals: Linkly PIN pads, their secrets and their users."""
