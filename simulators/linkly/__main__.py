"""Entry point: python -m simulators.linkly --help."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
