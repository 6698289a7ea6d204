"""Importing records from a sheet as an import job (workflows/record_import): each row becomes a
record whose lifecycle case waits in legality review, as if captured in the form; subjects are
found by their code or registered; one bad cell anywhere imports nothing and every problem is
named by row and column; the same file is never imported twice; a 10,000-row sheet imports whole."""
from __future__ import annotations

import io
import time

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from workflows.demo import SUBJECTS, make_citizen_id, make_uscc
from workflows.import_jobs import ImportJob, enqueue_import, run_import_jobs
from workflows.models import AuditEvent, Case, HumanTask, Record, Subject
from workflows.sheet_reader import SheetError

HEADER = ["信用主体代码", "信用主体名称", "主体类型", "认定依据", "领域", "失信程度", "失信事实", "法律依据", "认定日期",
          "失信行为发生日期", "涉及项目", "项目阶段"]
DEPT_NAME, DEPT_CODE = SUBJECTS[0][1], SUBJECTS[0][2]
NEW_DEPT = make_uscc("11610802MB900001")
NEW_PERSON = make_citizen_id("61080219900101011")


def row(code=DEPT_CODE, name=DEPT_NAME, kind="", source="行政处罚", field="政府采购", severity="一般",
        facts="逾期未支付中小企业账款。", basis="《保障中小企业款项支付条例》第八条", decided="2026-05-29", conduct="",
        project="", phase=""):
    return [code, name, kind, source, field, severity, facts, basis, decided, conduct, project, phase]


def sheet(*rows, header=HEADER) -> bytes:
    book = Workbook(write_only=True)
    page = book.create_sheet()
    page.append(header)
    for r in rows:
        page.append(list(r))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(world, data: bytes, actor="clerk", name="records.xlsx") -> int:
    return world.run(actor, lambda uow: enqueue_import(uow, "records", name, data).id)


def finished(world, job_id: int) -> ImportJob:
    run_import_jobs(world.factory, world.clock)
    with world.factory() as session:
        return session.get(ImportJob, job_id)


def counts(world) -> tuple[int, int, int]:
    with world.factory() as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) for t in (Record, Case, Subject))


def test_each_row_becomes_a_record_in_legality_review_as_if_captured(world):
    data = sheet(row(project="河道治理PPP项目", phase="建设期", conduct="2026/3/1"),
                 row(NEW_DEPT, "某区新设局", "政府部门", "Court judgment", "ppp", "严重", decided="2026年5月20日"),
                 row(NEW_PERSON, "王某", "", "纪律处分", "招标投标", "minor"),
                 row(NEW_PERSON, "王某", "公务员", "问责处理", "其他", "轻微"))
    job = finished(world, upload(world, data))
    assert (job.status, job.total, job.result["imported"], job.result["subjects"]) == ("done", 4, 4, 2), job.errors
    with world.factory() as session:
        records = session.scalars(select(Record).order_by(Record.id)).all()
        assert [(r.subject.code, r.source, r.field, r.severity, r.status) for r in records] == [
            (DEPT_CODE, "administrative_penalty", "government_procurement", "general", "under_review"),
            (NEW_DEPT, "court_judgment", "ppp", "serious", "under_review"),
            (NEW_PERSON, "disciplinary_sanction", "bidding", "minor", "under_review"),
            (NEW_PERSON, "accountability", "other", "minor", "under_review")]
        first = records[0]
        assert (str(first.decision_date), str(first.conduct_date), first.project, first.project_phase) == (
            "2026-05-29", "2026-03-01", "河道治理PPP项目", "建设期")
        assert str(records[1].decision_date) == "2026-05-20"
        assert records[2].subject.kind == "civil_servant" and records[2].subject.name == "王某"
        assert records[1].subject.kind == "department"
        tasks = session.scalars(select(HumanTask.bpmn_id).where(HumanTask.record_id.in_([r.id for r in records]))).all()
        assert sorted(tasks) == ["legality_review"] * 4
        imported = session.scalars(select(AuditEvent).where(AuditEvent.action == "record.imported")
                                   .order_by(AuditEvent.id)).all()
        assert [(e.record_id, e.data["import_job"], e.data["row"], e.actor) for e in imported] == [
            (r.id, job.id, n, "clerk") for r, n in zip(records, (2, 3, 4, 5))]
        captured = session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed")).all()
        assert {e.data["task"] for e in captured} == {"capture"} and len(captured) == 4


def test_one_bad_cell_imports_nothing_and_every_problem_names_its_row_and_column(world):
    before = counts(world)
    data = sheet(row(),
                 row(DEPT_CODE[:-1] + ("0" if DEPT_CODE[-1] != "0" else "1")),     # a wrong check character
                 row(severity="很严重", decided="2026-13-01"),
                 row(facts="", basis="  "),
                 row(name="另一个局"),
                 row(NEW_PERSON, "王某"), row(NEW_PERSON, "王某某"),
                 row(SUBJECTS[3][2], SUBJECTS[3][1], "政府部门"),
                 row(kind="机关", field="农业"),
                 row(610802199001010110))                      # an ID Excel stored as a number
    job = finished(world, upload(world, data))
    assert job.status == "failed"
    assert [str(m) for m in job.messages] == [
        "第 3 行 · 信用主体代码：统一社会信用代码校验位错误",
        "第 4 行 · 失信程度：“很严重”不是可选值；可选：轻微、一般、严重",
        "第 4 行 · 认定日期：“2026-13-01”不是有效日期；日期格式 YYYY-MM-DD，如 2026-01-31",
        "第 5 行 · 失信事实：必填，不能为空",
        "第 5 行 · 法律依据：必填，不能为空",
        f"第 6 行 · 信用主体名称：与已登记的名称“{DEPT_NAME}”不一致",
        "第 8 行 · 信用主体名称：与第 7 行同一代码的名称“王某”不一致",
        f"第 9 行 · 主体类型：代码 {SUBJECTS[3][2][:6]}**********{SUBJECTS[3][2][16:]} 已登记为公务员",
        "第 10 行 · 主体类型：“机关”不是可选值；可选：政府部门、公务员",
        "第 10 行 · 领域：“农业”不是可选值；可选：政府采购、政府和社会资本合作、招标投标、招商引资、政府债务、街道乡镇承诺、其他",
        "第 11 行 · 信用主体代码：被 Excel 存成了数字，末几位已丢失：请把此列设为文本格式后重新填写"]
    assert counts(world) == before


def test_a_sheet_without_a_required_column_or_rows_is_refused_whole(world):
    job = finished(world, upload(world, sheet(row()[:5], header=HEADER[:5])))
    assert job.status == "failed"
    assert [str(m) for m in job.messages] == ["第一行缺少列：失信程度、失信事实、法律依据、认定日期（列名见导入模板）"]
    job = finished(world, upload(world, sheet(header=HEADER), name="empty.xlsx"))
    assert [str(m) for m in job.messages] == ["表格中没有记录"]


def test_the_same_file_is_imported_once(world):
    data = sheet(row(), row(NEW_PERSON, "王某"))
    first = upload(world, data)
    with pytest.raises(SheetError, match=f"该文件正在导入（导入任务 {first}"):
        upload(world, data, "clerk2")                     # a double submit while it waits
    assert finished(world, first).status == "done"
    with pytest.raises(SheetError, match=f"导入（导入任务 {first}，clerk），不再重复导入"):
        upload(world, data)
    # two jobs of one file queued together (two requests at once): the first saved wins
    with world.factory() as session:
        twin = session.get(ImportJob, first)
        session.add(ImportJob(kind="records", filename="again.xlsx", data=data, status="queued", total=0, done=0,
                              errors=[], result={"sha256": twin.result["sha256"]}, created_by=twin.created_by,
                              created_by_name="clerk", created_at=world.clock.now(), attempts=0))
        session.commit()
    run_import_jobs(world.factory, world.clock)
    with world.factory() as session:
        again = session.scalars(select(ImportJob).where(ImportJob.filename == "again.xlsx")).one()
        assert again.status == "failed" and "不再重复导入" in str(again.messages[0])
        assert session.scalar(select(func.count()).select_from(Record)) == 2


def test_a_file_that_failed_imported_nothing_so_it_may_be_uploaded_again(world):
    data = sheet(row(NEW_DEPT, ""))                       # a subject to register needs its name
    assert finished(world, upload(world, data)).status == "failed"
    job = finished(world, upload(world, data))
    assert [str(m) for m in job.messages] == ["第 2 行 · 信用主体名称：必填，不能为空"]


def test_only_clerks_import_records(world):
    from workflows.case_errors import Forbidden
    for actor in ("reviewer", "leader", "manager"):
        with pytest.raises(Forbidden):
            upload(world, sheet(row()), actor)


@pytest.mark.one_database
def test_a_ten_thousand_row_sheet_imports_every_record_and_case(world):
    rows = [row(make_citizen_id(f"610802{19600101 + i % 28 + (i // 28) * 100:08d}{i % 1000:03d}"), f"干部{i:05d}",
                "公务员", facts=f"第 {i} 号：逾期未支付中小企业账款。") for i in range(10000)]
    job_id = upload(world, sheet(*rows))
    began = time.perf_counter()
    job = finished(world, job_id)
    print(f"10,000 rows imported in {time.perf_counter() - began:.1f} s")
    assert (job.status, job.total, job.done, job.result["imported"], job.result["subjects"]) == (
        "done", 10000, 10000, 10000, 10000), job.errors[:3]
    with world.factory() as session:
        facts = session.scalars(select(Record.facts).where(Record.status == "under_review")).all()
        assert sorted(facts) == sorted(f"第 {i} 号：逾期未支付中小企业账款。" for i in range(10000))
        cases = session.scalar(select(func.count()).select_from(Case).where(
            Case.process_key == "record_lifecycle", Case.status == "running"))
        reviews = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.bpmn_id == "legality_review"))
        assert (cases, reviews) == (10000, 10000)
