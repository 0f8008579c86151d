"""Bad input for the `flask pos` CLI: no traceback, a non-zero exit naming the problem, and
nothing stored, queued or sent to Linkly.

Every case runs the real click commands through `app.test_cli_runner()`. Each example changes
one thing from a valid call, so the message it must print is known. Inputs the app accepts by
design (Python's Decimal and int grammars: "1_000", "+5", " 5 ", non-ASCII digits) are left out.
The bugs this campaign found (fixed) keep a regression test each at the end of each file.
"""
