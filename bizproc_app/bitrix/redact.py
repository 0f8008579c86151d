"""Keep tokens and the client secret out of logs and error messages."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
SECRET_KEYS = frozenset(
    {
        "auth",
        "access_token",
        "refresh_token",
        "client_secret",
        "application_token",
        "auth_id",
        "refresh_id",
    }
)
_QUERY_SECRET = re.compile(
    r"(?i)((?:^|[?&\s\"'])(?:auth|access_token|refresh_token|client_secret|application_token)=)"
    r"[^&\s\"']*"
)


def mask(value: Any) -> Any:
    """Return a copy of a JSON-like value with every secret-named member replaced by ***."""
    if isinstance(value, Mapping):
        return {k: MASK if str(k).lower() in SECRET_KEYS else mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value


def mask_query(text: str) -> str:
    """Mask secret query parameters (`auth=...`, `client_secret=...`) inside a URL or line."""
    return _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)


class QuerySecretFilter(logging.Filter):
    """A logging filter that masks secret query parameters in a record's message and args."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        if isinstance(record.msg, str):
            record.msg = mask_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_query(a) if isinstance(a, str) else a for a in record.args)
        return True


_FILTER = QuerySecretFilter()


def install_urllib3_filter() -> None:
    """Mask the query strings urllib3 logs at DEBUG (the OAuth GETs carry secrets in them)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
