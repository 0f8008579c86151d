"""Payments: one service for every entry point, the asynchronous pipeline, the report."""
