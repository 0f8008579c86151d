"""Helpers the tests share, one module for each kind of thing they hold.

- `waiting`: poll until something is true (`wait_for`), or until a port listens.
- `loopback`: free ports, the loopback check of the network guard, a private Redis server.
- `receivers`: loopback HTTP servers that record what they are sent (JSON events, form POSTs).
- `clocks`: a clock the test moves by hand.
- `pos`: two stand-in POSes for Linkly Cloud (the app's LinklyClient, and raw HTTP).
- `bitrix24`: reading the Bitrix24 simulator's records through the `ctl` fixture.
- `jobs`: how many of the app's RQ jobs are waiting.
"""
