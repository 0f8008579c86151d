"""The seeded fault campaign (python -m bench.chaos): payments under faults, then invariants."""
