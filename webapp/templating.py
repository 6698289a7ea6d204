"""Jinja filters and globals: China Standard Time, labels, working-day deadlines, record and case numbers."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app, g, request, url_for
from flask_babel import get_locale, gettext as _
from sqlalchemy.exc import SQLAlchemyError

from workflows.clock import CST
from workflows.runtime import Actor
from workflows.numbers import case_no, record_no
from workflows.workdays import CalendarNotCovered, WorkdayCalendar

from .context import clock, db
from .exports import print_time
from .labels import actor_name, label, named, named_answer, request_translations, rule_title
from .translate import translated


ANONYMOUS = Actor.system("anonymous")


def cst(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(CST).strftime(fmt)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def calendar() -> WorkdayCalendar:
    if "calendar" not in g:
        g.calendar = WorkdayCalendar.from_session(db())
    return g.calendar


def _workdays_between(today: date, due_day: date) -> int | None:
    """Working days from today to a due day (None: the calendar does not cover it), remembered
    for the request: an inbox page asks for the same few days on every row."""
    memo = g.setdefault("workdays_memo", {})
    key = (today, due_day)
    if key not in memo:
        try:
            memo[key] = calendar().workdays_between(today, due_day)
        except CalendarNotCovered:
            memo[key] = None
    return memo[key]


def deadline(due: datetime | None) -> dict:
    """{'text', 'overdue', 'soon'}: working days left or overdue, for a task's due time."""
    if due is None:
        return {"text": "", "overdue": False, "soon": False}
    now = clock().now()
    today, due_day = now.astimezone(CST).date(), due.astimezone(CST).date()
    days = _workdays_between(today, due_day)
    if due < now:
        text = _("逾期 %(n)s 个工作日", n=abs(days) if days else 0) if days is not None else _("已逾期")
        return {"text": text, "overdue": True, "soon": False}
    if days is None:
        return {"text": cst(due, "%Y-%m-%d"), "overdue": False, "soon": False}
    text = _("今日到期") if days == 0 else _("剩余 %(n)s 个工作日", n=days)
    return {"text": text, "overdue": False, "soon": days <= 2}


def url_with(**changes) -> str:
    """The current page's URL with some query arguments changed (None removes one). The path's
    own parameters win over query arguments of the same name (`/records/5?record_id=1`)."""
    if request.endpoint is None:  # an error page for a URL that matched no route: link home
        return url_for("auth.home", **{k: v for k, v in changes.items() if v is not None})
    path_args = request.view_args or {}
    args = {k: v for k, v in request.args.items() if k not in path_args and k not in URL_FOR_OPTIONS}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **{**args, **path_args})


# keyword arguments url_for takes for itself: a query argument of that name is not passed on as one
URL_FOR_OPTIONS = frozenset({"_anchor", "_method", "_scheme", "_external"})


def _unread_notifications() -> dict:
    from flask_login import current_user
    if g.get("database_down") or not current_user.is_authenticated:
        return {}
    from workflows.notifications import unread_count
    try:
        return {"unread_notifications": unread_count(db(), current_user.id)}
    except SQLAlchemyError:
        # the page is an error page after a database failure: it goes out without the badge
        from .errors import forget_failed_read_session
        forget_failed_read_session()
        return {}


def document_subject(document):
    from workflows.models import Subject
    # a complaint reply letter is addressed to no subject (workflows/complaints)
    return db().get(Subject, document.subject_id) if document.subject_id is not None else None


def may_open(kind: str, thing=None) -> bool:
    """Whether the viewer may open the page a link to `thing` leads to, by the rule that page
    checks (workflows/access.py): templates show a link only where this holds."""
    from flask_login import current_user
    from workflows.access import may_open as rule
    if g.get("database_down") or not current_user.is_authenticated:
        return rule(None, ANONYMOUS, kind, thing) if kind == "public_record" else False
    return rule(db(), current_user.actor, kind, thing)


def register(app) -> None:
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.context_processor(_unread_notifications)
    app.jinja_env.globals["document_subject"] = document_subject
    app.jinja_env.globals["may_open"] = may_open      # {% if may_open('case', c) %}<a href=...>{% endif %}
    app.jinja_env.filters["cst"] = cst
    app.jinja_env.filters["translated"] = translated   # {{ error|translated }}: a domain Message or error
    # R-000012 / C-000007 / A-000007: {{ record|record_no }}, {{ case|case_no }},
    # {{ row.case_id|case_no(row.process_key) }}
    app.jinja_env.filters.update(record_no=record_no, case_no=case_no)
    app.jinja_env.globals.update(record_no=record_no, case_no=case_no)
    app.jinja_env.globals.update(label=label, actor_name=actor_name, deadline=deadline, url_with=url_with,
                                 get_locale=get_locale)
    app.jinja_env.globals["print_time"] = print_time      # the printed heading of a list (_list_tools.html)
    # {{ named(task.name) }}: a name the shipped processes and forms give, in the page's language
    app.jinja_env.globals.update(named=named, named_answer=named_answer, rule_title=rule_title)
    app.jinja_env.filters["named"] = named
