"""The indicators of a year's evaluation, their default weights (after the 2019 plan) and the
formula. Pure functions: the counts come from scoring.py.

The formula (each indicator scores 0-100; the total is their weighted mean, weights summing to 100):
- records (失信记录): 100 - the points of the year's standing records by severity
  (default minor 5, general 10, serious 20), never below 0;
- objections (异议成立，信用回补): 100 x upheld / decided objections on the department's records
  decided in the year; 100 when there were none;
- repairs (信用修复): 100 x repairs approved in the year / the year's records; 100 without records;
- commitments (承诺履行): 100 x (fulfilled + half of partly fulfilled) / commitments concluded in
  the year; 100 when none was concluded;
- lookups (逢办必查): 100 x look-ups made in the year / the target (default 10), at most 100;
- survey (第三方评估): the imported survey score.
Scores are rounded to two decimals; equal totals share a rank (1, 1, 3); grades: 90 and more
优秀, 75 良好, 60 一般, below 较差."""
from __future__ import annotations

from ..messages import Message, N_

CODES = ("records", "objections", "repairs", "commitments", "lookups", "survey")
TITLES = {"records": N_("失信记录扣分"), "objections": N_("异议成立（信用回补）"), "repairs": N_("信用修复"),
          "commitments": N_("承诺履行"), "lookups": N_("逢办必查"), "survey": N_("第三方评估")}
DEFAULT_WEIGHTS = {"records": 40, "objections": 10, "repairs": 10, "commitments": 15, "lookups": 5, "survey": 20}
DEFAULT_PARAMS = {"records": {"minor": 5, "general": 10, "serious": 20}, "lookups": {"target": 10}}
PARAM_TITLES = {"minor": N_("轻微（每条扣分）"), "general": N_("一般（每条扣分）"), "serious": N_("严重（每条扣分）"),
                "target": N_("年度目标次数")}
GRADES = ((90, "excellent"), (75, "good"), (60, "fair"), (0, "poor"))
GRADE_TITLES = {"excellent": N_("优秀"), "good": N_("良好"), "fair": N_("一般"), "poor": N_("较差")}


class IndicatorsInvalid(Exception):
    """The weights or parameters typed were refused; `errors` names each field."""

    def __init__(self, errors: dict[str, Message]):
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def default_indicators() -> list[dict]:
    return [{"code": c, "weight": DEFAULT_WEIGHTS[c], "params": dict(DEFAULT_PARAMS.get(c, {}))} for c in CODES]


def _number(text, minimum: int, maximum: int) -> int | None:
    try:
        value = int(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if minimum <= value <= maximum else None


def parse_indicators(form: dict) -> list[dict]:
    """The indicators from a form's text fields (`weight_<code>`, `param_<code>_<name>`): whole
    weights 0-100 summing to 100, whole parameters 0-100 (a target 1-10000)."""
    errors: dict[str, Message] = {}
    out = []
    for code in CODES:
        weight = _number(form.get(f"weight_{code}", ""), 0, 100)
        if weight is None:
            errors[f"weight_{code}"] = Message(N_("权重须为 0 到 100 的整数"))
        params = {}
        for name, default in DEFAULT_PARAMS.get(code, {}).items():
            key = f"param_{code}_{name}"
            value = _number(form.get(key, default), 1 if name == "target" else 0, 10000 if name == "target" else 100)
            if value is None:
                errors[key] = Message(N_("须为整数：扣分 0 到 100，目标次数 1 到 10000"))
            params[name] = value
        out.append({"code": code, "weight": weight, "params": params})
    if not errors:
        total = sum(i["weight"] for i in out)
        if total != 100:
            errors["weights"] = Message(N_("各项权重之和须为 100，现在是 %(total)s"), total=total)
    if errors:
        raise IndicatorsInvalid(errors)
    return out


def _share(part: float, whole: float) -> float:
    return 100.0 if whole <= 0 else min(100.0, 100.0 * part / whole)


def indicator_score(code: str, counts: dict, params: dict) -> float:
    if code == "records":
        points = sum(params.get(s, 0) * counts.get(s, 0) for s in ("minor", "general", "serious"))
        return max(0.0, 100.0 - points)
    if code == "objections":
        return _share(counts["upheld"], counts["decided"])
    if code == "repairs":
        return _share(counts["repaired"], counts["records"])
    if code == "commitments":
        return _share(counts["fulfilled"] + 0.5 * counts["partly"], counts["concluded"])
    if code == "lookups":
        return _share(counts["lookups"], params.get("target", 10))
    if code == "survey":
        return float(counts["survey"])
    raise ValueError(code)


def total_score(indicators: list[dict], counts: dict) -> tuple[float, dict]:
    """The weighted total and each indicator's score, rounded to two decimals."""
    scores = {i["code"]: round(indicator_score(i["code"], counts, i.get("params") or {}), 2) for i in indicators}
    weight = sum(i["weight"] for i in indicators) or 1
    total = sum(scores[i["code"]] * i["weight"] for i in indicators) / weight
    return round(total + 1e-9, 2), scores


def grade(score: float) -> str:
    return next(code for floor, code in GRADES if score >= floor)


def ranks(scores: list[float]) -> list[int]:
    """Competition ranks (1, 1, 3) of the scores, in their order."""
    ordered = sorted(scores, reverse=True)
    return [ordered.index(s) + 1 for s in scores]
