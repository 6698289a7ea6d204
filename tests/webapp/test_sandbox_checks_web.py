"""The editor's live check and the deploy route answer an expression the sandbox refuses before
parsing (too long, too deeply nested: the issue's condition of 6,000 `+` terms) with the problem,
never a 500; and the names that now run (format, hasattr) pass both."""
from __future__ import annotations

from sqlalchemy import func, select

from workflows.models import ProcessDefinition
from workflows.paths import bundled_dir

KEY = "record_lifecycle"
BASE = (bundled_dir("bpmn") / f"{KEY}.bpmn").read_text(encoding="utf-8")
HUGE = "+".join(["1"] * 6000)     # 11,999 characters; used to end in a RecursionError (500)


def _manager(web):
    manager = web("manager")
    assert manager.get("/admin/upload").status_code == 200   # a page, and its CSRF token
    return manager


def _check(manager, source: str, mode: str = "eval"):
    response = manager.client.post("/admin/api/check", json={"source": source, "mode": mode},
                                   headers={"X-CSRFToken": manager.token})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


def test_the_live_check_answers_with_the_problem(web):
    manager = _manager(web)
    answer = _check(manager, HUGE)
    assert answer["ok"] is False and "表达式过于复杂：约 5,999 层嵌套" in answer["error"]
    answer = _check(manager, f"x = {HUGE}", "exec")
    assert answer["ok"] is False and "表达式过于复杂" in answer["error"]
    answer = _check(manager, " or ".join(["x == 1"] * 3000))
    assert answer == {"ok": False, "error": "代码过长：29,996 个字符（上限 20,000）"}
    assert _check(manager, "format(amount, '>5') != '' and hasattr(amount, 'real')") == {"ok": True}
    answer = _check(manager, "bytes(3)")
    assert answer["ok"] is False and "脚本中不可用：bytes" in answer["error"]
    manager.get("/admin/?lang=en")                   # the manager's page language: the answers follow it
    answer = _check(manager, "bytes(3)")
    assert answer == {"ok": False, "error": "not available in scripts: bytes"}
    manager.get("/admin/?lang=zh_CN")
    answer = _check(manager, "'{0.__class__}'.format(x)")
    assert answer["ok"] is False and "use an f-string" in answer["error"]


def test_validate_and_deploy_name_the_gateway_and_deploy_nothing(web, session_factory):
    manager = _manager(web)
    forms = manager.get(f"/admin/processes/{KEY}/draft.json").get_json()["forms"]
    edited = BASE.replace('review_decision == "approve"', f'review_decision == "approve" and {HUGE} &gt; 0', 1)
    assert edited != BASE
    with session_factory() as session:
        versions = session.scalar(select(func.count()).select_from(ProcessDefinition))
    headers = {"X-CSRFToken": manager.token}
    for route, status in (("validate", 200), ("deploy", 422)):
        response = manager.client.post(f"/admin/processes/{KEY}/{route}", json={"bpmn_xml": edited, "forms": forms},
                                       headers=headers)
        assert response.status_code == status, response.get_data(as_text=True)[:300]
        problems = response.get_json()["problems"]
        assert [p["element"] for p in problems] == ["gw_review_decision"], problems
        assert "表达式过于复杂：约 5,999 层嵌套或连续的运算（上限 100）" in problems[0]["reason"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == versions
