"""Bitrix24 activity and robot definitions: Send to POS and Refund via POS."""

from __future__ import annotations

from activities.common import RETURN_PROPERTIES, STATUSES, Definition
from activities.refund_via_pos import REFUND_VIA_POS
from activities.send_to_pos import SEND_TO_POS

DEFINITIONS: tuple[Definition, ...] = (SEND_TO_POS, REFUND_VIA_POS)

__all__ = ["DEFINITIONS", "REFUND_VIA_POS", "RETURN_PROPERTIES", "SEND_TO_POS", "STATUSES"]
