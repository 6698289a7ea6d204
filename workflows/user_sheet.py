"""Staff accounts from an .xlsx sheet with Chinese headers (用户名, 姓名, 角色, 邮箱, 电话; the English
ones accepted): every row goes in or none; every problem is named by row and column. The columns,
the template and the problem lines are sheet_columns' (shared with the roster import). Bounded
(file size, unpacked size, rows, columns) and read in streaming mode by sheet_reader. Each new
account gets a one-time activation code."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from .accounts import AccountError
from .messages import Message, N_, message_of
from .models import User
from .sheet_columns import (Column, cell_text, listed, problem, require_columns, rows_of,
                            template_xlsx as sheet_template)
from .sheet_reader import SheetError as UnreadableSheet
from .sheet_reader import SheetLimits
from .sheet_reader import read_sheet as read_bounded_sheet
from .users import (STAFF_ROLES, add_staff, clean_email, clean_name, clean_phone, clean_roles, clean_username,
                    require_admin)

USER_LIMITS = SheetLimits(max_rows=1000, max_columns=20)   # accounts in one sheet; see sheet_reader
MAX_BYTES, MAX_ROWS, MAX_COLUMNS = USER_LIMITS.max_bytes, USER_LIMITS.max_rows, USER_LIMITS.max_columns
USER_SHEET = (
    Column("username", N_("用户名"), "Username", True, N_("2-80 位字母、数字或 . _ @ -，登录时使用"), ("User name",)),
    Column("name", N_("姓名"), "Name", True, N_("显示在页面和文书上的姓名")),
    Column("roles", N_("角色"), "Roles", True,
           N_("承办人、审核人、分管领导、流程管理员、人事（诚信档案）或系统管理员；多个角色用顿号或逗号分开"), ("Role",)),
    Column("email", N_("邮箱"), "E-mail", False, N_("用于接收通知，可不填")),
    Column("phone", N_("电话"), "Phone", False, N_("可不填")),
)
COLUMN = {c.field: c for c in USER_SHEET}
TEMPLATE_HEADERS = tuple(c.title for c in USER_SHEET)
USER_NOTES = (N_("第 1 行为列名，不要改动；从第 2 行起每行一个账户。第 2、3 行是示例，导入前请改写或删除。"),
              N_("有任何一行不合格时整个表格都不导入，页面列出每个问题所在的行和列。"))
# the roles' Chinese names (as webapp/labels.py ROLE shows them; a test keeps the two the same)
ROLE_NAMES = {"承办人": "clerk", "审核人": "reviewer", "分管领导": "leader", "流程管理员": "manager",
              "人事（诚信档案）": "personnel", "人事": "personnel", "系统管理员": "admin",
              "逢办必查查询人": "checker"}
SEPARATORS = re.compile(r"[、,，;；/]+")


class SheetError(AccountError):
    """The file itself cannot be read (not an .xlsx, too large, no header)."""


@dataclass
class Imported:
    created: list[tuple[str, str, str]]     # (username, display name, one-time code)
    errors: list[Message]


def read_sheet(data: bytes) -> list[tuple[int, dict]]:
    """(row number, {field: text}) for every non-empty row; SheetError when the file is unusable
    or a required column is missing."""
    try:
        sheet = read_bounded_sheet("users.xlsx", data, USER_LIMITS, csv_allowed=False)
        fields = require_columns(sheet, USER_SHEET)
    except UnreadableSheet as exc:
        raise SheetError(message_of(exc)) from None
    out = []
    for number, row in rows_of(sheet, fields):
        values = {f: cell_text(v)[:300] for f, v in row.items()}
        if any(values.values()):
            out.append((number, values))
    return out


def parse_roles(text: str) -> list[str]:
    roles = []
    for part in SEPARATORS.split(text or ""):
        part = part.strip()
        if not part:
            continue
        code = ROLE_NAMES.get(part, part.lower())
        if code not in STAFF_ROLES:
            raise AccountError(N_("未知角色：%(roles)s"), roles=part)
        roles.append(code)
    return clean_roles(roles)


def check_user_rows(session, rows, progress=None) -> tuple[list[dict], list[Message]]:
    """Every row checked without writing anything: (the accounts to add, every problem by row and column)."""
    errors, pending, seen, bad_rows = [], [], {}, 0
    existing = set(session.scalars(select(User.username).where(
        User.username.in_([r.get("username", "") for _, r in rows]))))
    for done, (number, row) in enumerate(rows, start=1):
        problems = []
        for field, check in (("username", clean_username), ("name", clean_name), ("roles", parse_roles),
                             ("email", clean_email), ("phone", clean_phone)):
            try:
                check(row.get(field, ""))
            except AccountError as exc:
                problems.append(problem(number, COLUMN[field], exc.message))
        username = row.get("username", "")
        if username in seen:
            problems.append(problem(number, COLUMN["username"], Message(
                N_("用户名 %(username)s 与第 %(row)s 行重复"), username=username, row=seen[username])))
        elif username in existing:
            problems.append(problem(number, COLUMN["username"],
                                    Message(N_("用户名 %(username)s 已存在"), username=username)))
        seen.setdefault(username, number)
        if problems:
            errors.extend(problems)
            bad_rows += 1
        else:
            pending.append(row)
        if progress is not None:
            progress(done)
    return pending, listed(errors, bad_rows)


def save_users(uow, pending: list[dict]) -> Imported:
    """Add the checked accounts, each with its one-time code; all or nothing."""
    created = []
    for row in pending:
        user, code = add_staff(uow, row["username"], row["name"], parse_roles(row["roles"]), row.get("email"),
                               row.get("phone"))
        created.append((user.username, user.display_name, code))
    uow.audit("user.imported", count=len(created), usernames=[u for u, _, _ in created])
    return Imported(created, [])


def import_users(uow, data: bytes) -> Imported:
    """All rows or none: with any bad row nothing is added and every bad row is named. (The web
    runs the same steps as a background job: workflows/import_jobs.py.)"""
    require_admin(uow)
    rows = read_sheet(data)
    if not rows:
        raise SheetError(N_("表格中没有账户"))

    pending, errors = check_user_rows(uow.session, rows)
    if errors:
        return Imported([], errors)
    return save_users(uow, pending)


def template_xlsx(translate=None, english: bool = False) -> bytes:
    """The import template: the headers, two example rows, and what each column holds."""
    examples = [["zhangsan", "张三", "承办人", "zhangsan@example.gov.cn", "0912-1234567"],
                ["lisi", "李四", "审核人、分管领导", "", ""]]
    return sheet_template(USER_SHEET, examples, N_("用户"), list(USER_NOTES), translate, english)
