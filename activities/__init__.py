"""Bitrix24 activity and robot definitions (Send to POS, Refund via POS)."""
