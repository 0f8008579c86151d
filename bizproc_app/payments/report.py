"""Report a card payment's outcome to Bitrix24 in one `batch` request, resumably.

`plan_commands` turns a ReportInput and the progress already recorded (`done`) into the batch
commands still missing, `record_results` folds a batch answer back into `done`, and `report` runs
them against a BitrixClient. `done` is plain JSON, meant for `Payment.report_done`:

    {"pay_plan": {...}, "payment_added": 1033,  # see invoice_payment; our crm.item.payment.add
     "pay": true, "paid_payment": 1033, "unpay": true, "stage": true,
     "comment_deal": 123, "comment_invoice": 456, # comment ids, or "owner_gone"
     "event": true,                               # or "workflow_gone" / "unconfirmed"
     "notify": {"unknown": [1, 3], "approved": [1, 3]},  # users told, per status reported
     "uncertain": ["comment_deal", "pay_add"]}    # sent in a batch whose answer was lost
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from activities.common import RETURN_PROPERTIES
from bizproc_app.bitrix import (
    AccessDenied,
    AuthError,
    BadRequest,
    BatchResult,
    BitrixClient,
    BitrixError,
    BitrixUnavailable,
    OAuthError,
    OperationTimeLimit,
    WorkflowNotFound,
    prefixed,
)
from bizproc_app.bitrix.batch import Command
from bizproc_app.linkly import format_cents
from bizproc_app.payments import invoice_payment

INVOICE_TYPE_ID = invoice_payment.INVOICE_TYPE_ID
DEAL_TIMELINE_TYPE = "deal"
# Unconfirmed (reference §15.5/§15.8): the CRM type docs give SMART_INVOICE, the comment docs
# the dynamic_<typeId> forms. The portal's known form is tried first, then the other.
INVOICE_TIMELINE_TYPES = ("smart_invoice", "dynamic_31")
# An invoice's payment takes up to three rounds (read its rows and payments; create one carrying
# the rows and read it back; pay it), which also clear lost-answer look-ups; one more tells people
# about a gone workflow.
MAX_ROUNDS = 4
# Tracked after a lost batch answer: a resent creation could duplicate, so it is looked up first;
# the event is resent, and WorkflowNotFound then most likely means the lost send completed it.
TRACKED = ("pay_add", "comment_deal", "comment_invoice", "event")
# Errors no retry will fix until someone re-installs or grants rights.
PERMANENT = (AuthError, AccessDenied, OAuthError)
COMMENT_TARGETS = {"comment_deal": "find_deal", "comment_invoice": "find_invoice"}

Commands = dict[str, tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class ReportInput:
    """Everything the report needs, read from the payment before the job talks to Bitrix24."""

    payment_id: str
    kind: str  # purchase | refund
    status: str  # approved|declined|cancelled|failed|unknown|error: what the workflow is told now
    resolved_late: bool  # the workflow was already told "unknown"; the outcome is now known
    amount_cents: int
    currency: str
    deal_id: int | None
    invoice_id: int | None
    order_payment_id: int | None
    bitrix_payment_id: int | None  # the invoice's crm.item.payment id
    success_stage: str | None  # the invoice's success stage, e.g. "DT31_13:P"
    refund_stage: str | None  # the stage of a fully refunded invoice, when configured
    fully_refunded: bool  # refunds: approved refunds took back all the document's money
    event_token: str | None  # None when a person started the payment
    return_values: dict[str, Any]
    comment: str  # timeline text; must contain payment_id (retries look for it)
    notify_user_ids: tuple[int, ...]
    notify_message: str
    # Purchases: approved payments (net of refunds) now cover the invoice, and no other
    # purchase of it marked it paid: pay it and move its stage. A partial payment only comments.
    covers: bool = True
    # Something people must check (a contradicting or late result, another amount approved).
    alert: bool = False
    # Under which key people told are recorded in done["notify"] (default: the status).
    notify_key: str = ""
    # The timeline ENTITY_TYPE the portal took for smart invoices last time.
    invoice_timeline_type: str = INVOICE_TIMELINE_TYPES[0]
    # Purchases: the approved money on the invoice, net of refunds (its paid payment's sum).
    paid_cents: int | None = None

    @property
    def told_as(self) -> str:
        """The done["notify"] key of the people told this time."""
        return self.notify_key or self.status


class ReportIncomplete(Exception):
    """Some commands did not land; `done` holds what did: persist it, then retry."""

    def __init__(self, done: dict[str, Any], errors: Mapping[str, BaseException]) -> None:
        self.done = done
        self.errors = dict(errors)
        detail = "; ".join(f"{name}: {err}" for name, err in self.errors.items())
        super().__init__(f"Bitrix24 report incomplete: {detail or 'commands left'}")

    @property
    def retryable(self) -> bool:
        """False only when every error is one a retry cannot fix (auth, rights)."""
        return not self.errors or not all(isinstance(e, PERMANENT) for e in self.errors.values())


def workflow_return_values(inp: ReportInput) -> dict[str, Any]:
    """The contract's keys only; status, approved, amount and payment_id come from the input."""
    values = {
        k: v for k, v in inp.return_values.items() if k in RETURN_PROPERTIES and v is not None
    }
    values.update(
        status=inp.status,
        approved="Y" if inp.status == "approved" else "N",  # a Bitrix24 bool is Y/N
        amount=format_cents(inp.amount_cents),
        payment_id=inp.payment_id,
    )
    return values


def plan_commands(inp: ReportInput, done: Mapping[str, Any]) -> Commands:
    """Return the batch commands not yet recorded in `done`, in the order they must run."""
    uncertain = set(done.get("uncertain", ()))
    cmds: Commands = {}
    writes_crm = inp.status != "unknown"
    if writes_crm:
        cmds.update(_payment_commands(inp, done, uncertain))
    if inp.event_token and not inp.resolved_late and "event" not in done:
        # Before the stage move: moving the document may end the workflow that waits for us.
        cmds["event"] = ("bizproc.event.send", _event_params(inp))
    if writes_crm:
        stage = _target_stage(inp)
        if stage and "stage" not in done:
            fields = {"stageId": stage}
            params = {"entityTypeId": INVOICE_TYPE_ID, "id": inp.invoice_id, "fields": fields}
            cmds["stage"] = ("crm.item.update", params)
        cmds.update(_comment_commands(inp, done, uncertain))
    cmds.update(_notify_commands(inp, done))
    return cmds


def _payment_commands(inp: ReportInput, done: Mapping[str, Any], uncertain: set[str]) -> Commands:
    """Mark the invoice or order payment paid (approved purchase) or unpaid (full refund)."""
    if inp.status != "approved":
        return {}
    if inp.kind == "refund":
        target = inp.bitrix_payment_id if inp.invoice_id else inp.order_payment_id
        if inp.fully_refunded and target and "unpay" not in done:
            return {"unpay": ("crm.item.payment.unpay", {"id": target})}
        return {}
    if "pay" in done or not inp.covers:
        return {}
    if not inp.invoice_id:
        target = inp.order_payment_id
        return {"pay": ("crm.item.payment.pay", {"id": target})} if target else {}
    return invoice_payment.commands(inp.invoice_id, done, uncertain)


def _charged(inp: ReportInput) -> int:
    """What the invoice's paid payment must come to: all approved money on it, net."""
    return inp.amount_cents if inp.paid_cents is None else inp.paid_cents


def _target_stage(inp: ReportInput) -> str | None:
    """The invoice stage to move to, if any."""
    if not inp.invoice_id or inp.status != "approved":
        return None
    if inp.kind == "refund":
        return inp.refund_stage if inp.fully_refunded else None
    return inp.success_stage if inp.covers else None


def _event_params(inp: ReportInput) -> dict[str, Any]:
    """bizproc.event.send: the workflow's one outcome."""
    return {
        "EVENT_TOKEN": inp.event_token,
        "RETURN_VALUES": workflow_return_values(inp),
        "LOG_MESSAGE": f"POS {inp.kind} {inp.status}: {_money(inp)} (payment {inp.payment_id})",
    }


def _comment_commands(inp: ReportInput, done: Mapping[str, Any], uncertain: set[str]) -> Commands:
    """Timeline comments on the deal and the invoice; a look-up instead after a lost answer."""
    cmds: Commands = {}
    form = invoice_form(inp, done)
    owners = {
        "comment_deal": (inp.deal_id, DEAL_TIMELINE_TYPE),
        "comment_invoice": (inp.invoice_id if form else None, form),
    }
    for name, (entity_id, entity_type) in owners.items():
        if not entity_id or name in done:
            continue
        owner = {"ENTITY_ID": entity_id, "ENTITY_TYPE": entity_type}
        if name in uncertain:
            params = {"filter": owner, "select": ["ID", "COMMENT"], "order": {"ID": "DESC"}}
            cmds[COMMENT_TARGETS[name]] = ("crm.timeline.comment.list", params)
        else:
            cmds[name] = ("crm.timeline.comment.add", {"fields": {**owner, "COMMENT": inp.comment}})
    return cmds


def invoice_form(inp: ReportInput, done: Mapping[str, Any]) -> str | None:
    """The invoice comment's ENTITY_TYPE to try now: the portal's own, then the other one."""
    forms = sorted(INVOICE_TIMELINE_TYPES, key=lambda f: f != inp.invoice_timeline_type)
    refused = done.get("invoice_forms_refused", ())
    return next((f for f in forms if f not in refused), None)


def _notify_commands(inp: ReportInput, done: Mapping[str, Any]) -> Commands:
    """im.notify each person for unknown, a late result, or a workflow that cannot be told."""
    wanted = (
        inp.status == "unknown"
        or inp.resolved_late
        or inp.alert
        or done.get("event") == "workflow_gone"
    )
    if not wanted:
        return {}
    told = set(done.get("notify", {}).get(inp.told_as, ()))
    message = inp.notify_message or f"Card {inp.kind} {inp.status}: {_money(inp)}"
    tag = f"pos-{inp.payment_id}"
    return {
        f"notify_{uid}": ("im.notify", _notify_params(uid, message, tag))
        for uid in inp.notify_user_ids
        if uid not in told
    }


def _notify_params(uid: int, message: str, tag: str) -> dict[str, Any]:
    """A SYSTEM notification that replaces this payment's earlier one to the same person.

    TAG is unique per application, not per recipient (reference §15.4), so a shared TAG would
    make each recipient's message delete the previous recipient's: the user id is part of it.
    """
    return {
        "USER_ID": uid,
        "TYPE": "SYSTEM",
        "MESSAGE": message,
        "TAG": f"{tag}-{uid}",
        "SUB_TAG": tag,
    }


def _money(inp: ReportInput) -> str:
    return f"{format_cents(inp.amount_cents)} {inp.currency}"


def record_results(
    inp: ReportInput, done: dict[str, Any], commands: Commands, result: BatchResult
) -> dict[str, BitrixError]:
    """Fold one batch answer into `done` (in place); return the errors still worth retrying."""
    uncertain = set(done.get("uncertain", ()))
    errors: dict[str, BitrixError] = {}
    for name, (method, _) in commands.items():
        if name in result.errors:
            err = result.errors[name]
            if name == "event" and isinstance(err, WorkflowNotFound | AccessDenied):
                # The token is dead (the method's page lists ACCESS_DENIED for a token that can
                # no longer be used; the runtime says WorkflowNotFound). If an earlier send's
                # answer was lost, that send most likely completed the workflow; otherwise the
                # workflow ended without us.
                done["event"] = "unconfirmed" if "event" in uncertain else "workflow_gone"
            elif name == "comment_invoice" and isinstance(err, BadRequest):
                # This form of ENTITY_TYPE may be the one the portal does not take: the next
                # round tries the other; when both are refused the invoice is gone for us.
                refused = done.setdefault("invoice_forms_refused", [])
                refused.append(commands[name][1]["fields"]["ENTITY_TYPE"])
                if invoice_form(inp, done) is None:
                    done[name] = "owner_gone"
            elif name in COMMENT_TARGETS and err.code == "OWNER_NOT_FOUND":
                done[name] = "owner_gone"
            else:
                errors[name] = err
            continue
        if name not in result.results:
            errors[name] = BitrixUnavailable("NO_ANSWER", "no result in the batch", None, method)
            continue
        _record_one(inp, done, uncertain, name, result.results[name])
        if name == "comment_invoice":
            done["invoice_timeline_type"] = commands[name][1]["fields"]["ENTITY_TYPE"]
    _set_uncertain(done, uncertain - done.keys())
    return errors


def _record_one(
    inp: ReportInput, done: dict[str, Any], uncertain: set[str], name: str, value: Any
) -> None:
    """Record one successful command."""
    if inp.invoice_id and invoice_payment.record(_charged(inp), done, uncertain, name, value):
        return
    if name in ("pay", "unpay", "stage", "event"):
        done[name] = True
    elif name in COMMENT_TARGETS:
        done[name] = int(value)
    elif name in ("find_deal", "find_invoice"):
        target = "comment_" + name.removeprefix("find_")
        # Ours names the payment and says this outcome (an earlier one may have been overturned).
        headline = inp.comment.splitlines()[0] if inp.comment else ""
        ours = [
            c
            for c in value or []
            if inp.payment_id in str(c.get("COMMENT", "")) and headline in str(c.get("COMMENT", ""))
        ]
        if ours:
            done[target] = int(ours[0]["ID"])
        uncertain.discard(target)
    elif name.startswith("notify_"):
        told = done.setdefault("notify", {}).setdefault(inp.told_as, [])
        uid = int(name.removeprefix("notify_"))
        if uid not in told:
            told.append(uid)


def _set_uncertain(done: dict[str, Any], uncertain: set[str]) -> None:
    if uncertain:
        done["uncertain"] = sorted(uncertain)
    else:
        done.pop("uncertain", None)


def report_many(
    client: BitrixClient, items: Mapping[str, tuple[ReportInput, dict[str, Any]]]
) -> dict[str, dict[str, BaseException]]:
    """One round for several payments in ONE batch request; return the errors, by key.

    Each `done` is updated in place. Keys name the payments inside the batch (letters and
    digits; "" for a batch of one); the caller keeps the total under 50 commands
    (`plan_commands` tells how many).
    """

    def prefix(key: str) -> str:
        return f"{key}_" if key else ""

    plans = {key: plan_commands(inp, done) for key, (inp, done) in items.items()}
    commands: dict[str, Command] = {}
    for key, cmds in plans.items():
        commands.update(prefixed(prefix(key), cmds))
    if not commands:
        return {}
    try:
        result = client.batch(commands)
    except BitrixUnavailable as exc:
        # The batch may have run without us hearing: creations must be looked up first.
        for key, (_, done) in items.items():
            sent = {n for n in plans[key] if n in TRACKED}
            _set_uncertain(done, set(done.get("uncertain", ())) | sent)
        return {key: {"batch": exc} for key in items if plans[key]}
    except BitrixError as exc:  # refused before anything ran (limits, auth)
        return {key: {"batch": exc} for key in items if plans[key]}
    errors: dict[str, dict[str, BaseException]] = {}
    for key, (inp, done) in items.items():
        if plans[key]:
            found = record_results(inp, done, plans[key], result.part(prefix(key)))
            if found:
                errors[key] = dict(found)
    return errors


def go_on_without(errors: Mapping[str, BaseException], left: Commands) -> bool:
    """Only methods the portal blocked failed, and other commands are left: send those now."""
    blocked = {name for name, err in errors.items() if isinstance(err, OperationTimeLimit)}
    return blocked == set(errors) and bool(set(left) - blocked)


def report(client: BitrixClient, inp: ReportInput, done: dict[str, Any]) -> dict[str, Any]:
    """Send what is missing in one batch (a second only after look-ups); return `done`.

    `done` is updated in place, so the caller can persist it even when ReportIncomplete is
    raised; the exception carries the same dict.
    """
    for _ in range(MAX_ROUNDS):
        if not plan_commands(inp, done):
            return done
        errors = report_many(client, {"": (inp, done)}).get("")
        if errors and not go_on_without(errors, plan_commands(inp, done)):
            raise ReportIncomplete(done, errors)
    if plan_commands(inp, done):
        raise ReportIncomplete(done, {})
    return done
