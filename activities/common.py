"""What every POS robot and activity shares: return properties and the registration shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEAL = ["crm", "CCrmDocumentDeal", "DEAL"]
SMART_INVOICE = [
    "crm",
    "Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice",
    "SMART_INVOICE",
]
DOCUMENT_FILTER = {"INCLUDE": [DEAL[:2], SMART_INVOICE[:2]]}

STATUSES = ("approved", "declined", "cancelled", "failed", "unknown", "error")


def prop(name: str, type_: str, *, description: str = "", default: Any = None) -> dict[str, Any]:
    """Return one PROPERTIES / RETURN_PROPERTIES entry (optional, single-valued)."""
    entry: dict[str, Any] = {"Name": {"en": name}, "Type": type_, "Required": "N", "Multiple": "N"}
    if description:
        entry["Description"] = {"en": description}
    if default is not None:
        entry["Default"] = default
    return entry


# The public contract workflow designers build conditions on: keep keys and types stable.
RETURN_PROPERTIES: dict[str, dict[str, Any]] = {
    "status": prop("Status", "string", description=" | ".join(STATUSES)),
    "approved": prop("Approved", "bool"),
    "response_code": prop("Response code", "string"),
    "response_text": prop("Response text", "string"),
    "txn_ref": prop("Transaction reference", "string"),
    "auth_code": prop("Authorisation code", "string"),
    "rrn": prop("RRN", "string"),
    "ref": prop("Host reference (REF)", "string"),
    "card_type": prop("Card type", "string"),
    "account_type": prop("Account type", "string", description="CHQ | SAV | CRD"),
    "masked_pan": prop("Card number (masked)", "string"),
    "amount": prop("Amount", "double"),
    "payment_id": prop("Payment ID", "string"),
    "receipt": prop("Customer receipt", "text"),
    "error": prop("Error", "text"),
}


@dataclass(frozen=True)
class Definition:
    """One POS operation, registered both as a robot and as a designer activity."""

    robot_code: str
    activity_code: str
    name: str
    description: str
    properties: dict[str, dict[str, Any]]

    def registration(self, *, robot: bool, handler_url: str, auth_user_id: int) -> dict[str, Any]:
        """Return the parameters of bizproc.robot.add (robot=True) or bizproc.activity.add."""
        params: dict[str, Any] = {
            "CODE": self.robot_code if robot else self.activity_code,
            "HANDLER": handler_url,
            "AUTH_USER_ID": auth_user_id,
            "USE_SUBSCRIPTION": "Y",
            "NAME": {"en": self.name},
            "DESCRIPTION": {"en": self.description},
            "PROPERTIES": self.properties,
            "RETURN_PROPERTIES": RETURN_PROPERTIES,
            "FILTER": DOCUMENT_FILTER,
        }
        if not robot:
            params["DOCUMENT_TYPE"] = DEAL
        return params
