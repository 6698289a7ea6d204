"""A notification about a task that is finished since (a deadline reminder, an assignment) says
under it who finished the step and when, and leads to the case if the reader may open it, else
nowhere; the old task link itself answers with the same sentence. Any other link is kept only where
its reader may go (the calendar notice reaches leaders, whose roles do not open the calendar)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from credflow_web import Page
from test_route_matrix import APPROVE
from workflows.applications import file_credit_repair
from workflows.cases import assign_task
from workflows.clock import CST
from workflows.models import Notification, User
from workflows.notification_view import notification_entries
from workflows.notifications import holders_of_role, notifications_of, notify_users
from workflows.reminders import send_deadline_reminders
from workflows.runtime import Actor
from workflows.worker import run_once


def remind_before(world, row) -> None:
    """The clock an hour before the task's deadline, and the deadline reminders sent."""
    world.clock.at = row.due_at - timedelta(hours=1)
    world.run(None, send_deadline_reminders)


def note_of(page: Page, href: str | None = None, data_kind: str | None = None):
    found = page.one("notifications").xpath("./*[@data-notification]")
    if data_kind:
        found = [n for n in found if n.get("data-kind") == data_kind]
    if href:
        found = [n for n in found if n.get("href") == href]
    return found


def test_a_reminder_about_a_step_finished_since_says_who_finished_it_and_links_the_case(web, world):
    _, case_id = world.open_record()
    review = world.task(case_id, "legality_review")
    remind_before(world, review)
    reviewer = web("reviewer")
    page = reviewer.page("/notifications")
    [note] = note_of(page, data_kind="deadline")
    assert note.get("href") == f"/tasks/{review.id}" and not note.xpath(".//*[@data-task-closed]")

    world.clock.advance(minutes=30)
    world.complete("reviewer2", review.id, APPROVE)     # the other reviewer finished it
    page = reviewer.page("/notifications")
    [note] = note_of(page, data_kind="deadline")
    assert note.get("href") == f"/cases/{case_id}"
    done = (review.due_at - timedelta(minutes=30)).astimezone(CST).strftime("%Y-%m-%d %H:%M")
    closed = " ".join(note.xpath(".//*[@data-task-closed]")[0].text_content().split())
    assert closed == f"该步骤已由 周审核 于 {done} 完成。点击查看案件。"
    assert reviewer.get(f"/cases/{case_id}").status_code == 200
    # the old link itself: the same sentence
    old = reviewer.page(f"/tasks/{review.id}")
    assert old.status == 409 and f"该任务已由 周审核 于 {done} 完成" in old.text_of("error-message")
    english = " ".join(reviewer.page("/notifications?lang=en").one("notifications").text_content().split())
    assert f"This step was completed by 周审核 at {done}. Open the case." in english


def test_an_assignment_finished_since_leads_to_the_case(web, world):
    _, case_id = world.open_record()
    review = world.task(case_id, "legality_review")
    world.run("leader", assign_task, review.id, world.user_ids["reviewer2"])
    page = web("reviewer2").page("/notifications")
    assert [n.get("href") for n in note_of(page, data_kind="assigned")] == [f"/tasks/{review.id}"]
    world.complete("reviewer2", review.id, APPROVE)
    page = web("reviewer2").page("/notifications")
    [note] = note_of(page, data_kind="assigned")
    assert note.get("href") == f"/cases/{case_id}" and "该步骤已由 周审核" in note.text_content()


def test_a_subjects_reminder_about_its_finished_supplement(web, world):
    record, case_id = world.open_record()
    world.complete("reviewer", world.task(case_id, "legality_review").id, APPROVE)
    world.complete("leader", world.task(case_id, "leader_approval").id,
                   {"leader_decision": "approve", "leader_opinion": "同意。"})
    world.clock.advance(days=100)
    run_once(world.factory, world.clock)
    repair = world.run("subject", file_credit_repair, record, "已全额支付。", True, [1], [])
    world.complete("clerk", world.task(repair.id, "completeness_check").id,
                   {"completeness": "supplement", "missing_items": "缴款凭证原件", "completeness_reason": "缺件。"})
    supplement = world.task(repair.id, "supplement")
    remind_before(world, supplement)
    subject = web("subject")
    [note] = note_of(subject.page("/notifications"), data_kind="deadline")
    assert note.get("href") == f"/portal/tasks/{supplement.id}"
    world.complete("subject", supplement.id, {"supplement_statement": "已补交缴款凭证原件。"})
    [note] = note_of(subject.page("/notifications"), data_kind="deadline")
    assert note.get("href") == f"/portal/applications/{repair.id}"
    assert "该步骤已由 榆林市某区住房和城乡建设局 于" in note.text_content()
    assert subject.get(f"/portal/applications/{repair.id}").status_code == 200
    old = subject.page(f"/portal/tasks/{supplement.id}")
    assert old.status == 409 and "该任务已由 榆林市某区住房和城乡建设局 于" in old.text_of("error-message")


def test_the_calendar_notice_links_the_calendar_for_the_administrator_only(web, world):
    with world.uow() as uow:
        users = holders_of_role(uow.session, "admin") + holders_of_role(uow.session, "leader")
        notify_users(uow, users, "calendar_uncovered", "工作日历尚未覆盖 2027 年。", "/system/calendar?year=2027")
        uow.commit()
    admin = note_of(web("admin").page("/notifications"), data_kind="calendar_uncovered")
    leader = note_of(web("leader").page("/notifications"), data_kind="calendar_uncovered")
    assert [n.get("href") for n in admin] == ["/system/calendar?year=2027"]
    assert [n.tag for n in leader] == ["div"] and leader[0].get("href") is None
    assert "工作日历尚未覆盖 2027 年。" in leader[0].text_content()


def test_notification_entries_without_flask(world):
    """The function the page calls, on its own: a task cancelled (no completion: no one to name)
    still leads to its case for staff; a case link the reader may not open is dropped."""
    _, case_id = world.open_record()
    with world.factory() as session:
        clerk = Actor.of(session.scalars(select(User).where(User.username == "clerk")).one())
        subject = Actor.of(session.scalars(select(User).where(User.username == "subject")).one())
        now = world.clock.now()
        notes = [Notification(id=1, user_id=clerk.user_id, kind="overdue", text="x", link="/tasks/999999",
                              case_id=case_id, created_at=now),
                 Notification(id=2, user_id=clerk.user_id, kind="notice", text="y", link=f"/cases/{case_id}",
                              case_id=case_id, created_at=now),
                 Notification(id=3, user_id=clerk.user_id, kind="notice", text="z", link="/public/",
                              created_at=now, read_at=now)]
        gone, case, public = notification_entries(session, clerk, notes)
        assert (gone.task_closed, gone.finished_by, gone.link) == (True, None, f"/cases/{case_id}")
        assert (case.link, public.link, public.read) == (f"/cases/{case_id}", "/public/", True)
        gone, case, public = notification_entries(session, subject, notes)
        assert (gone.link, case.link, public.link) == (None, None, "/public/")
        assert notifications_of(session, clerk.user_id) == []      # nothing was written
