"""The CRM part of a card page: a document's smart invoices, their product rows and payments."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from .crm import DEAL, INVOICE

if TYPE_CHECKING:
    from .portal import Portal

STYLE = "table{border-collapse:collapse;margin:.3em 0}td,th{border:1px solid #ddd;padding:2px 6px}"


def invoices_html(portal: Portal, type_id: int, item: dict[str, Any]) -> str:
    """The deal's invoices (or the invoice itself), each with its rows and payments."""
    if type_id == INVOICE:
        invoices = [item]
    elif type_id == DEAL:
        invoices = [
            i for i in portal.crm.items[INVOICE].values() if i.get("parentId2") == item["id"]
        ]
    else:
        return ""
    return "".join(_invoice(portal, invoice) for invoice in invoices)


def _invoice(portal: Portal, invoice: dict[str, Any]) -> str:
    iid, currency = invoice["id"], escape(str(invoice["currencyId"]))
    rows = portal.rows.get(("SI", iid), [])
    payments = [p for p in portal.payments.values() if (p["_type"], p["_entity"]) == (INVOICE, iid)]
    row_lines = "".join(
        f"<tr><td>{escape(str(r['productName']))}</td><td>{r['price']:.2f}</td>"
        f"<td>{r['quantity']:g}</td></tr>"
        for r in rows
    )
    pay_lines = "".join(
        f'<tr data-payment="{p["id"]}" data-sum="{p["sum"]:.2f}" data-paid="{p["paid"]}">'
        f"<td>{escape(str(p['accountNumber']))}</td><td>{p['sum']:.2f} {currency}</td>"
        f"<td>{'paid' if p['paid'] == 'Y' else 'not paid'}</td>"
        f"<td>{len(p['_products'])}</td></tr>"
        for p in payments
    )
    return (
        f'<div class="invoice" data-invoice="{iid}"><h4>Invoice {iid}: '
        f"{escape(str(invoice['title']))} · {invoice['opportunity']:.2f} {currency} · "
        f"stage {escape(str(invoice['stageId']))}</h4>"
        "<table><tr><th>Product</th><th>Price</th><th>Quantity</th></tr>"
        f"{row_lines or '<tr><td colspan=3>no product rows</td></tr>'}</table>"
        "<table><tr><th>Payment</th><th>Sum</th><th>Status</th><th>Products</th></tr>"
        f"{pay_lines or '<tr><td colspan=4>no payments</td></tr>'}</table></div>"
    )
