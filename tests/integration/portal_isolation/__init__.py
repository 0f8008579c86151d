"""Portal isolation: a user, robot or PIN pad event of portal A reads and changes nothing of B.

Portal A is `fuzz_app`'s portal (its Bitrix24 is the `b24` simulator); portal B gets a Bitrix24
simulator of its own, so a CRM read that went to the wrong portal would show. Every refusal is
checked three ways: the status, the JSON error, and a snapshot of the database (row counts, and
every row of B) that must not move. B's simulator must not even be called.
"""
