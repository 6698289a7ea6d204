"""What the signed extract of a look-up (信用信息查询结果) says: the query, the deal, and each
subject found with its published records, in the words of a document."""
from __future__ import annotations

from ..documents.content import FIELDS, SEVERITY, SOURCE, chinese_date, cn_date
from ..dates import as_date
from .search import shown_query

DEAL_KINDS = {"procurement": "政府采购", "bidding": "招标投标", "funding": "资金安排", "honours": "评优评先/表彰",
              "appointment": "任用"}
KEY_KINDS = {"code": "统一社会信用代码", "citizen_id": "公民身份号码", "name": "名称/姓名"}
CAUTION = "需审慎办理"


def extract_data(lookup, department) -> dict:
    """The extract's data (kept with the document as its source)."""
    found = []
    for s in lookup.result.get("subjects") or []:
        records = [{
            "number": r["number"], "field": FIELDS.get(r.get("field") or "", ""),
            "source": SOURCE.get(r.get("source") or "", ""), "severity": SEVERITY.get(r.get("severity") or "", ""),
            "facts": r.get("facts") or "", "decided": cn_date(r.get("decision_date")),
            "period": "至".join(p for p in (cn_date(r.get("publication_start")), cn_date(r.get("publication_end"))) if p),
            "authority": r.get("authority") or "", "decision_number": r.get("decision_number") or "",
            "objection": bool(r.get("under_objection")),
        } for r in s.get("records") or []]
        found.append({"name": s["name"], "code_label": KEY_KINDS["code"] if s["kind"] == "department" else KEY_KINDS["citizen_id"],
                      "code": s["code"], "caution": bool(s.get("caution")), "records": records})
    return {
        "lookup_id": lookup.id, "checked_at": chinese_date(as_date(lookup.created_at)),
        "checker": lookup.checker_name, "department": department.name if department is not None else "",
        "key_label": KEY_KINDS[lookup.key_kind], "query": shown_query(lookup.key_kind, lookup.query),
        "deal_kind": DEAL_KINDS[lookup.deal_kind], "deal_ref": lookup.deal_ref, "hit": bool(lookup.hit),
        "caution_text": CAUTION, "found": found,
    }
