"""Staff accounts from an .xlsx sheet with Chinese headers (用户名, 姓名, 角色, 邮箱, 电话): every row
goes in or none; every bad row is named. Bounded (file size, unpacked size, rows, columns) and read
in streaming mode by sheet_reader. Each new account gets a one-time activation code."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

from sqlalchemy import select

from .accounts import AccountError
from .models import User
from .sheet_reader import SheetError as UnreadableSheet
from .sheet_reader import SheetLimits, records
from .sheet_reader import read_sheet as read_bounded_sheet
from .users import (STAFF_ROLES, add_staff, clean_email, clean_name, clean_phone, clean_roles, clean_username,
                    require_admin)

USER_LIMITS = SheetLimits(max_rows=1000, max_columns=20)   # accounts in one sheet; see sheet_reader
MAX_BYTES, MAX_ROWS, MAX_COLUMNS = USER_LIMITS.max_bytes, USER_LIMITS.max_rows, USER_LIMITS.max_columns
# header -> field; the Chinese headers of the template, and the English ones
HEADERS = {"用户名": "username", "姓名": "name", "角色": "roles", "邮箱": "email", "电话": "phone",
           "username": "username", "name": "name", "roles": "roles", "email": "email", "phone": "phone"}
TEMPLATE_HEADERS = ("用户名", "姓名", "角色", "邮箱", "电话")
# the roles' Chinese names (as webapp/labels.py ROLE shows them; a test keeps the two the same)
ROLE_NAMES = {"承办人": "clerk", "审核人": "reviewer", "分管领导": "leader", "流程管理员": "manager",
              "人事（诚信档案）": "personnel", "人事": "personnel", "系统管理员": "admin"}
SEPARATORS = re.compile(r"[、,，;；/]+")


class SheetError(AccountError):
    """The file itself cannot be read (not an .xlsx, too large, no header)."""


@dataclass
class Imported:
    created: list[tuple[str, str, str]]     # (username, display name, one-time code)
    errors: list[str]


def read_sheet(data: bytes) -> list[tuple[int, dict]]:
    """(row number, {field: text}) for every non-empty row; SheetError when the file is unusable."""
    try:
        sheet = read_bounded_sheet("users.xlsx", data, USER_LIMITS, csv_allowed=False)
    except UnreadableSheet as exc:
        raise SheetError(str(exc)) from None
    fields = [HEADERS.get(name) or HEADERS.get(name.lower()) for name in sheet.header]
    missing = [h for h, f in (("用户名", "username"), ("姓名", "name"), ("角色", "roles")) if f not in fields]
    if missing:
        raise SheetError(f"缺少列：{'、'.join(missing)} / missing columns; the first row must be "
                         f"{'、'.join(TEMPLATE_HEADERS)}")
    out = []
    for number, row in records(sheet, HEADERS):
        values = {f: _text(v) for f, v in row.items()}
        if any(values.values()):
            out.append((number, values))
    return out


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)          # a phone number typed as a number
    return str(value).strip()[:300]


def parse_roles(text: str) -> list[str]:
    roles = []
    for part in SEPARATORS.split(text or ""):
        part = part.strip()
        if not part:
            continue
        code = ROLE_NAMES.get(part, part.lower())
        if code not in STAFF_ROLES:
            raise AccountError(f"未知角色“{part}” / unknown role '{part}'")
        roles.append(code)
    return clean_roles(roles)


def check_user_rows(session, rows, progress=None) -> tuple[list[dict], list[str]]:
    """Every row checked without writing anything: (the accounts to add, the errors by row)."""
    errors, pending, seen = [], [], {}
    existing = set(session.scalars(select(User.username).where(
        User.username.in_([r.get("username", "") for _, r in rows]))))
    for done, (number, row) in enumerate(rows, start=1):
        problems = []
        for check in (lambda: clean_username(row.get("username", "")), lambda: clean_name(row.get("name", "")),
                      lambda: parse_roles(row.get("roles", "")), lambda: clean_email(row.get("email")),
                      lambda: clean_phone(row.get("phone"))):
            try:
                check()
            except AccountError as exc:
                problems.append(str(exc))
        username = row.get("username", "")
        if username in seen:
            problems.append(f"用户名 {username} 与第 {seen[username]} 行重复 / "
                            f"the user name repeats row {seen[username]}")
        elif username in existing:
            problems.append(f"用户名 {username} 已存在 / user '{username}' exists")
        seen.setdefault(username, number)
        if problems:
            errors.append(f"第 {number} 行 / row {number}: " + "；".join(problems))
        else:
            pending.append(row)
        if progress is not None:
            progress(done)
    return pending, errors


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
        raise SheetError("表格中没有账户 / the sheet holds no accounts")
    pending, errors = check_user_rows(uow.session, rows)
    if errors:
        return Imported([], errors)
    return save_users(uow, pending)


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "用户"
    sheet.append(list(TEMPLATE_HEADERS))
    sheet.append(["zhangsan", "张三", "承办人", "zhangsan@example.gov.cn", "0912-1234567"])
    sheet.append(["lisi", "李四", "审核人、分管领导", "", ""])
    for column, width in zip("ABCDE", (16, 12, 24, 28, 16)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
