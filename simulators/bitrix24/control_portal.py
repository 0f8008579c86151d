"""Control API for what the portal shows: the CRM dump and a placement opened server-side."""

from __future__ import annotations

from flask import Response

from .control_base import ControlBlueprint, body
from .crm import DEAL, INVOICE
from .current_portal import current_portal
from .http_rest import json_response
from .rest_crm_payment import pay_view
from .util import to_int

bp = ControlBlueprint("control_portal", __name__)


@bp.doc_route("/crm", ["GET"], "CRM state: deals, invoices, product rows, payments, comments")
def crm() -> Response:
    """CRM dump."""
    portal = current_portal()
    with portal.lock:
        return json_response(
            {
                "deals": [portal.crm.view(i) for i in portal.crm.items[DEAL].values()],
                "invoices": [portal.crm.view(i) for i in portal.crm.items[INVOICE].values()],
                "product_rows": [r for rs in portal.rows.values() for r in rs],
                "payments": [
                    {
                        **pay_view(p),
                        "entityTypeId": p["_type"],
                        "entityId": p["_entity"],
                        "products": p["_products"],
                    }
                    for p in portal.payments.values()
                ],
                "comments": portal.comments,
            }
        )


@bp.doc_route(
    "/placements/open",
    ["POST"],
    "POST the frame form to a bound placement's handler {placement, id, user_id} (server side)",
)
def open_placement() -> Response:
    """Open a placement like the portal page would."""
    portal = current_portal()
    b = body()
    code = str(b.get("placement", "CRM_DEAL_DETAIL_TAB"))
    with portal.lock:
        bound = [p for p in portal.placements if p["placement"] == code]
        if not bound:
            return json_response({"error": "placement not bound"}, 404)
        options = {"ID": str(b.get("id", ""))}
        query, form = portal.frame(to_int(b.get("user_id"), 1) or 1, code, options)
    return json_response(
        portal.outbound.send_now(bound[0]["handler"], form, "placement", query=query)
    )
