"""Tokens: one revoked mid-transaction is renewed once by the recovery GET, and clients on the
same Redis share one cached token."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import redis

from bizproc_app.linkly import Outcome, token_cache_key
from bizproc_app.storage.secret_box import SecretBox
from tests.helpers.pos import LinklyClientPos
from tests.integration.linkly_roundtrip.helpers import (
    TOKEN_PATH,
    TOKEN_PREFIX,
    PadOneControl,
    check_envelopes,
    final_of,
)

# --------------------------------------------------------------------------------------------
# 9. The token is revoked mid-transaction
# --------------------------------------------------------------------------------------------


def test_token_revoked_mid_transaction_is_renewed_once_by_the_recovery_get(
    control: PadOneControl, pos: LinklyClientPos, redis_client: redis.Redis
) -> None:
    first_token = pos.client.token(credentials=pos.creds)
    key = TOKEN_PREFIX + token_cache_key(pos.creds.secret, pos.creds.pos_id)
    first_raw = redis_client.get(key)
    assert first_raw is not None and control.stats()["tokens"] == 1

    control.arm("token_expiry")
    p = pos.purchase(Decimal("10.00"))
    assert p.submit is not None and p.submit.accepted and p.submit.status_code == 202
    assert control.stats()["tokens"] == 0  # every token of the PIN pad was revoked

    result = pos.wait_final(p.session_id)
    assert result.outcome is Outcome.APPROVED and result.txn_ref == p.txn_ref

    # The first GET met a 401; the client dropped the token, fetched a new one, retried once.
    gets = pos.http.made("GET", f"/v1/sessions/{p.session_id}/transaction")
    assert gets[0] == 401 and 401 not in gets[1:] and gets[-1] == 200
    assert pos.http.made("POST", TOKEN_PATH) == [200, 200]
    second_token = pos.cached_token()
    assert second_token and second_token != first_token
    second_raw = redis_client.get(key)
    assert second_raw is not None and second_raw != first_raw
    assert control.stats()["tokens"] == 1

    # No second POST, one charge, and the notifications kept flowing meanwhile.
    assert pos.http.count_suffix("POST", "/transaction") == 1
    assert len(control.ledger(p.txn_ref)) == 1 and len(control.ledger()) == 1
    notes = check_envelopes(pos.wait_final_event(p.session_id), p)
    assert final_of(notes) == result


# --------------------------------------------------------------------------------------------
# 10. The token cache is shared through Redis
# --------------------------------------------------------------------------------------------


def test_token_cache_is_shared_by_clients_on_the_same_redis(
    make_client,
    control: PadOneControl,
    pos: LinklyClientPos,
    redis_client: redis.Redis,
    box: SecretBox,
) -> None:
    other_client, other_http, other_store = make_client()
    other = LinklyClientPos(other_client, other_http, other_store, pos.creds, pos.receiver)
    start = threading.Barrier(2)

    def fetch(who: LinklyClientPos) -> str:
        start.wait(timeout=5)
        return who.client.token(credentials=who.creds)

    with ThreadPoolExecutor(max_workers=2) as pool:
        tokens = list(pool.map(fetch, [pos, other]))

    assert tokens[0] == tokens[1]
    requests_made = pos.http.made("POST", TOKEN_PATH) + other.http.made("POST", TOKEN_PATH)
    assert requests_made == [200]
    assert control.stats()["tokens"] == 1
    keys = redis_client.keys(TOKEN_PREFIX + "*")
    assert [k.decode() for k in keys] == [
        TOKEN_PREFIX + token_cache_key(pos.creds.secret, pos.creds.pos_id)
    ]
    stored = json.loads(box.decrypt(redis_client.get(keys[0]).decode()))
    assert stored["token"] == tokens[0]

    # Both clients keep using the one cached token for real work.
    p = other.purchase(Decimal("10.00"))
    assert other.wait_final(p.session_id).outcome is Outcome.APPROVED
    q = pos.purchase(Decimal("11.00"))
    assert pos.wait_final(q.session_id).outcome is Outcome.APPROVED
    assert pos.http.made("POST", TOKEN_PATH) + other.http.made("POST", TOKEN_PATH) == [200]
    assert len(control.ledger()) == 2
