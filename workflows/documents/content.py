"""What each kind of document says: titles, addressee and the facts the templates need."""
from __future__ import annotations

from datetime import date

from ..dates import as_date
from ..numbers import record_no

TITLES = {"sanction": "失信惩戒决定书", "objection": "异议处理决定书", "self_correction": "主动自新申请处理决定书",
          "repair": "信用修复决定书", "receipt": "受理回执", "supplement_request": "补正材料通知书",
          "accountability": "问责处理决定书", "credit_check": "公务员诚信档案查询摘录",
          "lookup_extract": "信用信息查询结果",
          "complaint_reply": "投诉答复函",
          "evaluation_report": "政务诚信评价结果通知书"}
KIND_NAMES = {"sanction": "失信惩戒决定", "objection": "异议处理决定", "self_correction": "主动自新处理决定",
              "repair": "信用修复决定", "receipt": "受理回执", "supplement_request": "补正材料通知",
              "accountability": "问责处理决定", "credit_check": "诚信档案查询摘录",
              "lookup_extract": "逢办必查查询记录",
              "complaint_reply": "投诉答复",
              "evaluation_report": "政务诚信评价结果"}
DECISIONS = ("sanction", "objection", "self_correction", "repair", "accountability")
SEVERITY = {"minor": "轻微", "general": "一般", "serious": "严重"}
SOURCE = {"court_judgment": "司法判决", "administrative_penalty": "行政处罚", "disciplinary_sanction": "纪律处分",
          "accountability": "问责处理", "breach_of_promise": "违约/失信承诺"}
GROUNDS = {"factual_error": "事实错误", "omission": "信息遗漏", "duplicate": "重复记录", "should_not_publish": "不应公示",
           "over_period": "超期公示", "wrong_authority": "认定主体不当", "privacy": "涉及个人隐私"}
MEASURES = {"recovered_loss": "主动挽回损失", "removed_effect": "消除不良影响", "prevented_harm": "有效阻止危害结果发生"}
APPLICATIONS = {"objection": "异议申请", "self_correction": "主动自新申请", "credit_repair": "信用修复申请"}
FIELDS = {"government_procurement": "政府采购", "ppp": "政府和社会资本合作", "bidding": "招标投标",
          "investment_promotion": "招商引资", "government_debt": "政府债务", "township_commitment": "街道乡镇承诺",
          "other": "其他"}
# a record's status as a document states it (webapp/labels.py STATUS shows the same on pages)
RECORD_STATUS = {"draft": "草稿", "under_review": "审核中", "returned": "退回补正", "rejected": "不予认定",
                 "confirmed": "已认定", "sanctioned": "已惩戒", "published": "公示中", "corrected": "已更正",
                 "revoked": "已撤销", "repaired": "已修复", "expired": "公示期满", "archived": "已归档",
                 "exempted": "免予惩戒"}
# how a document addresses its subject: a department is 你单位, a person 你
YOU = {"department": "你单位", "civil_servant": "你"}


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def remedy_notice(kind: str, subject_kind: str, settings) -> str:
    if kind not in DECISIONS:
        return ""
    r = settings.remedy_periods
    if subject_kind == "civil_servant":
        return (f"如对本决定不服，可以自知道该决定之日起{r['review_days_civil_servant']}日内向原处理机关申请复核；"
                f"对复核结果不服的，可以自接到复核决定之日起{r['appeal_after_review_days']}日内提出申诉；"
                f"也可以不经复核，自知道该决定之日起{r['appeal_direct_days']}日内直接提出申诉。")
    return (f"如不服本决定，可以自收到本决定书之日起{r['administrative_review_days']}日内依法申请行政复议，"
            f"或者自收到本决定书之日起{r['litigation_months']}个月内依法提起行政诉讼。")


def you(subject) -> str:
    return YOU.get(getattr(subject, "kind", None), "你单位")


def record_title(record) -> str:
    """A record's title as documents name it: the field of the conduct (政府采购领域失信行为)."""
    field = FIELDS.get(getattr(record, "field", None) or "")
    return f"{field}领域失信行为" if field else "政务失信行为"


def record_name(record) -> str:
    """A record by its number and title: R-000012“政府采购领域失信行为”."""
    return f"{record_no(record)}“{record_title(record)}”"


def record_text(record) -> str:
    """How a decision names the record it is about: number and title, then source and decision date."""
    source = SOURCE.get(record.source, record.source or "")
    decided = f"{chinese_date(as_date(record.decision_date))}认定" if record.decision_date else ""
    summary = "，".join(part for part in (source, decided) if part)
    return f"政务失信记录{record_name(record)}" + (f"（{summary}）" if summary else "")


def cn_date(value) -> str:
    """A date (or ISO text) as 2026年6月1日; '' for none."""
    return chinese_date(as_date(value)) if value else ""


def extract_records(rows: list[dict], records: dict) -> list[dict]:
    """The records listed on an integrity-file extract: number, title, status and date in words.
    `rows` are the extract's data ({"id", "status_text", "decision_date"}), `records` the rows by id."""
    listed = []
    for row in rows or []:
        record = records.get(row.get("id"))
        status = record.status if record is not None else row.get("status_text")
        listed.append({"name": record_name(record) if record is not None else record_no(row.get("id")),
                       "status_text": RECORD_STATUS.get(status, status or ""),
                       "decided": cn_date(record.decision_date if record is not None else row.get("decision_date"))})
    return listed


def document_context(kind: str, case, record, data: dict, settings, today: date, party=None,
                     records: dict | None = None) -> dict:
    """The template variables for one document, from the case's task data and the record. `party`
    is the addressee when it is not the record's subject (the person of an accountability case);
    `records` the records an integrity-file extract lists, by id."""
    if kind == "complaint_reply":   # to a complainant, not a record's subject (workflows/complaints/letter.py)
        return {"title": TITLES[kind], "remedy": "", "date_text": chinese_date(today), **data}
    if kind == "evaluation_report":   # to a department about its yearly score (workflows/evaluation/report.py)
        return {"title": TITLES[kind], "addressee": party.name if party else "", "remedy": "",
                "date_text": chinese_date(today), **data}
    subject = party or record.subject
    if case is None:  # a document about a person, not a case (the integrity file extract)
        entries = [{**e, "entry_date": cn_date(e.get("entry_date"))} for e in data.get("entries") or []]
        return {"title": TITLES[kind], "addressee": "", "person": subject, "remedy": "",
                "date_text": chinese_date(today), **data, "entries": entries,
                "records": extract_records(data.get("records") or [], records or {})}
    outcome = case.outcome or data.get("final_outcome") or data.get("mitigation_decision")
    title = TITLES[kind]
    if kind == "sanction" and record.status == "exempted":
        title = "免予失信惩戒决定书"
    if kind == "repair" and outcome != "approved":
        title = "不予信用修复决定书"
    if kind == "objection" and outcome == "refused":
        title = "异议不予受理决定书"
    if kind == "accountability" and outcome in ("exempt", "none"):
        title = "免予问责决定书"
    filed = as_date(case.created_at) if case.created_at else today
    measures = data.get("measures") or []
    due = data.get("supplement_request", {}).get("due_at") if isinstance(data.get("supplement_request"), dict) else None
    acceptance = data.get("acceptance") if isinstance(data.get("acceptance"), dict) else {}
    return {
        "title": title, "record": record, "case": case, "outcome": outcome,
        "addressee": subject.name, "you": you(subject),
        "record_name": record_name(record), "record_title": record_title(record),
        "decision_date": cn_date(record.decision_date),
        "publication_min_end": cn_date(record.publication_min_end),
        "publication_max_end": cn_date(record.publication_max_end),
        "subject_line": f"经查，{you(subject)}"
                        f"（{'统一社会信用代码' if subject.kind == 'department' else '公民身份号码'}："
                        f"{subject.display_code}）存在以下失信行为：",
        "source_text": SOURCE.get(record.source, record.source or ""),
        "record_text": record_text(record),
        "severity_text": SEVERITY.get(record.severity, record.severity or ""),
        "rule_title": (record.rule_snapshot or {}).get("title", "").split(" / ")[0],
        "exempted": record.status == "exempted",
        # the decision is issued before publication starts: whether it will be published comes from the case
        "published": bool(data.get("publish")) or record.publication_start is not None,
        "filed_date": chinese_date(filed),
        "grounds_text": GROUNDS.get(data.get("grounds"), data.get("grounds", "")),
        "statement": data.get("statement") or data.get("statement_text", ""),
        "reason": case.outcome_reason or data.get("decision_reason") or "",
        "corrected_facts": data.get("corrected_facts"),
        "measures_text": "、".join(MEASURES.get(m, m) for m in measures),
        "mitigated_severity": SEVERITY.get(data.get("mitigated_severity")),
        "mitigated_max_months": data.get("mitigated_max_months"),
        "accepted_on": chinese_date(as_date(acceptance["accepted_on"])) if acceptance.get("accepted_on") else "",
        "decision_due": chinese_date(as_date(acceptance["decision_due"])) if acceptance.get("decision_due") else "",
        "application_text": APPLICATIONS.get(case.process_key, "申请"),
        "missing_items": data.get("missing_items", ""),
        "due_text": chinese_date(as_date(due)) if due else "",
        "remedy": remedy_notice(kind, subject.kind, settings),
        "measure_text": {"inspection": "检查", "notice": "通报", "admonition": "诫勉", "organisational": "组织处理",
                         "referral": "移送纪检监察机关"}.get(outcome, ""),
        "department_name": record.subject.name,
        "post_text": {"principal": "主要负责人", "official_in_charge": "分管负责人", "project_lead": "项目负责人"}.get(
            data.get("post"), "相关职务"),
        "date_text": chinese_date(today),
    }
