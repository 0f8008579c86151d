"""The Linkly Cloud client against the Linkly Cloud simulator, over real HTTP on loopback.

Everything Linkly goes through `LinklyClient` (pairing, tokens cached encrypted in a real Redis,
purchases, refunds, sendkey, recovery GETs); the simulator's control API (`/_sim/...`) is used
only to inject faults, drive the interactive PIN pad and read the ledger and sessions.
"""
