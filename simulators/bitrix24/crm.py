"""CRM data: pipelines, stages, deals and smart invoices (kept as typed camelCase items)."""

from __future__ import annotations

from typing import Any

from .util import Clock, iso, to_int

DEAL, INVOICE = 2, 31
DEAL_STAGES = [
    ("NEW", "New", None),
    ("PREPARATION", "Preparing documents", None),
    ("PREPAYMENT_INVOICE", "Invoice for prepayment", None),
    ("EXECUTING", "In progress", None),
    ("FINAL_INVOICE", "Final invoice", None),
    ("WON", "Deal won", "S"),
    ("LOSE", "Deal lost", "F"),
    ("APOLOGY", "Analysis of failure", "F"),
]
PIPE1_STAGES = [
    ("NEW", "New", None),
    ("PREPARATION", "Preparation", None),
    ("EXECUTING", "Payment", None),
    ("WON", "Paid", "S"),
    ("LOSE", "Lost", "F"),
]
INVOICE_STAGES = [
    ("N", "New", None),
    ("S", "Sent to client", None),
    ("P", "Paid", "S"),
    ("D", "Unpaid", "F"),
]
ITEM_INT = {
    "id",
    "categoryId",
    "companyId",
    "contactId",
    "mycompanyId",
    "assignedById",
    "createdBy",
    "updatedBy",
    "movedBy",
    "parentId2",
    "parentId7",
    "entityTypeId",
}
ITEM_FLOAT = {"opportunity", "taxValue"}


class Crm:
    """All CRM records of the portal."""

    def __init__(self, clock: Clock, invoice_category: int) -> None:
        self.clock = clock
        self.invoice_category = invoice_category
        self.items: dict[int, dict[int, dict[str, Any]]] = {DEAL: {}, INVOICE: {}}
        self.next_id = {DEAL: 1, INVOICE: 1}
        self.statuses = self._build_statuses()

    def categories(self, type_id: int) -> list[dict[str, Any]]:
        """crm.category.list rows for a type."""
        if type_id == DEAL:
            return [
                {
                    "id": 0,
                    "name": "General",
                    "sort": 100,
                    "entityTypeId": DEAL,
                    "isDefault": "Y",
                    "originId": "",
                    "originatorId": "",
                },
                {
                    "id": 1,
                    "name": "POS sales",
                    "sort": 200,
                    "entityTypeId": DEAL,
                    "isDefault": "N",
                    "originId": "",
                    "originatorId": "",
                },
            ]
        return [
            {
                "id": self.invoice_category,
                "name": "Invoices",
                "sort": 500,
                "entityTypeId": INVOICE,
                "isDefault": "Y",
                "originId": "",
                "originatorId": "",
            }
        ]

    def _build_statuses(self) -> list[dict[str, Any]]:
        """Every stage directory entry (crm.status.list rows)."""
        rows: list[dict[str, Any]] = []
        colors = {None: "#39A8EF", "S": "#7BD500", "F": "#FF5752"}
        sets = [
            ("DEAL_STAGE", 0, "", DEAL_STAGES),
            ("DEAL_STAGE_1", 1, "C1:", PIPE1_STAGES),
            (
                f"SMART_INVOICE_STAGE_{self.invoice_category}",
                self.invoice_category,
                f"DT31_{self.invoice_category}:",
                INVOICE_STAGES,
            ),
        ]
        for entity_id, cat, prefix, stages in sets:
            for n, (code, name, sem) in enumerate(stages):
                extra = {"process": None, "success": "S", "failure": "F"}
                word = next(k for k, v in extra.items() if v == sem)
                rows.append(
                    {
                        "ID": str(len(rows) + 1),
                        "ENTITY_ID": entity_id,
                        "STATUS_ID": prefix + code,
                        "NAME": name,
                        "NAME_INIT": name,
                        "SORT": str((n + 1) * 10),
                        "SYSTEM": "Y" if n == 0 or sem else "N",
                        "CATEGORY_ID": str(cat),
                        "COLOR": colors[sem],
                        "SEMANTICS": sem,
                        "EXTRA": {"SEMANTICS": word, "COLOR": colors[sem]},
                    }
                )
        return rows

    def stage(self, stage_id: str) -> dict[str, Any] | None:
        """The status row of a stage id."""
        return next(
            (r for r in self.statuses if r["STATUS_ID"] == stage_id and "STAGE" in r["ENTITY_ID"]),
            None,
        )

    def stage_ok(self, type_id: int, category: int, stage_id: str) -> bool:
        """Whether a stage belongs to this type + category."""
        row = self.stage(stage_id)
        if row is None or int(row["CATEGORY_ID"]) != category:
            return False
        return row["ENTITY_ID"].startswith("DEAL") == (type_id == DEAL)

    def first_stage(self, type_id: int, category: int) -> str:
        """The starting stage of a pipeline."""
        for r in self.statuses:
            if self.stage_ok(type_id, category, r["STATUS_ID"]):
                return r["STATUS_ID"]
        return "NEW"

    def add(self, type_id: int, fields: dict[str, Any], user_id: int) -> dict[str, Any]:
        """Create and store an item from camelCase fields."""
        new_id = self.next_id[type_id]
        self.next_id[type_id] += 1
        item = self.blank(type_id, new_id, user_id, fields)
        self.items[type_id][new_id] = item
        return item

    def blank(
        self, type_id: int, new_id: int, user_id: int, fields: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A new item (not stored)."""
        now = self.clock.now()
        fields = fields or {}
        cat = to_int(fields.get("categoryId"), 0 if type_id == DEAL else self.invoice_category) or 0
        item: dict[str, Any] = {
            "id": new_id,
            "entityTypeId": type_id,
            "title": f"Deal #{new_id}" if type_id == DEAL else f"Invoice #{new_id}",
            "categoryId": cat,
            "stageId": self.first_stage(type_id, cat),
            "opportunity": 0.0,
            "isManualOpportunity": "N",
            "currencyId": "EUR",
            "taxValue": 0.0,
            "companyId": 0,
            "contactId": 0,
            "contactIds": [],
            "mycompanyId": 0,
            "assignedById": user_id,
            "createdBy": user_id,
            "updatedBy": user_id,
            "movedBy": user_id,
            "createdTime": iso(now),
            "updatedTime": iso(now),
            "movedTime": iso(now),
            "begindate": iso(now),
            "closedate": iso(now + 7 * 86400),
            "comments": "",
            "opened": "Y",
            "closed": "N",
            "typeId": "SALE",
            "sourceId": "",
            "xmlId": "",
            "parentId2": None,
        }
        if type_id == DEAL:
            item.pop("parentId2")
        self.set_fields(item, {k: v for k, v in fields.items() if k != "categoryId"})
        return item

    def set_fields(self, item: dict[str, Any], fields: dict[str, Any]) -> None:
        """Write camelCase fields with type normalisation."""
        for key, value in fields.items():
            if key in ("id", "entityTypeId", "createdTime", "stageSemanticId"):
                continue
            if key in ITEM_INT:
                value = to_int(value, 0) if value not in (None, "") else None
            elif key in ITEM_FLOAT:
                value = float(value or 0)
            elif key == "contactIds":
                value = [to_int(v) for v in (value or [])]
            item[key] = value
        if "stageId" in fields:
            sem = self.semantic(item["stageId"])
            item["closed"] = "Y" if sem in ("S", "F") else "N"
        item["updatedTime"] = iso(self.clock.now())

    def semantic(self, stage_id: str) -> str:
        """P / S / F for a stage."""
        row = self.stage(stage_id)
        return (row["SEMANTICS"] if row else None) or "P"

    def view(self, item: dict[str, Any]) -> dict[str, Any]:
        """An item as crm.item.* returns it."""
        return {**item, "stageSemanticId": self.semantic(item["stageId"])}

    def get(self, type_id: int, item_id: Any) -> dict[str, Any] | None:
        """One item or None."""
        iid = to_int(item_id)
        return self.items.get(type_id, {}).get(iid) if iid is not None else None
