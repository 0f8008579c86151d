"""Both simulators, the app served on loopback, and real worker and scheduler processes.

The fixtures (`pinpads`, `processes`, `shop`) and helpers live in tests/payment_fixtures.py, a
plugin shared with the browser tests; this package points the app at the Linkly simulator.
"""

from __future__ import annotations

from typing import Any

import pytest

from bizproc_app.models import Terminal
from tests.payment_fixtures import ROOT, Processes, ledger, linkly_overrides, payment_of


@pytest.fixture
def app_overrides(pinpads) -> dict[str, Any]:
    """Point the app at the Linkly simulator, with quick pipeline clocks."""
    return linkly_overrides(pinpads)


__all__ = ["ROOT", "Processes", "Terminal", "ledger", "payment_of"]
