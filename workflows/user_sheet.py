"""Staff accounts from an .xlsx sheet with Chinese headers (用户名, 姓名, 角色, 邮箱, 电话): every row
goes in or none; every bad row is named. Bounded: file size, unpacked size, rows, columns; read
with openpyxl in read-only mode. Each new account gets a one-time activation code."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from sqlalchemy import select

from .accounts import AccountError
from .models import User
from .users import (STAFF_ROLES, add_staff, clean_email, clean_name, clean_phone, clean_roles, clean_username,
                    require_admin)

MAX_BYTES = 1024 * 1024            # the uploaded file
MAX_UNPACKED = 20 * 1024 * 1024    # what its parts unpack to (no zip bombs)
MAX_ROWS = 1000                    # accounts in one sheet
MAX_COLUMNS = 20
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
    if len(data) > MAX_BYTES:
        raise SheetError(f"文件超过 {MAX_BYTES // 1024} KB / the file is larger than {MAX_BYTES // 1024} KB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
                raise SheetError("文件解压后过大 / the file unpacks to too much data")
        from openpyxl import load_workbook
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except SheetError:
        raise
    except Exception:   # openpyxl raises many kinds for a damaged or foreign file
        raise SheetError("无法读取该文件，请上传 .xlsx 格式的表格 / the file is not a readable .xlsx sheet") from None
    try:
        rows = book.active.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1)
        header = next(rows, None)
        if header is None:
            raise SheetError("表格是空的 / the sheet is empty")
        if any(v not in (None, "") for v in header[MAX_COLUMNS:]):
            raise SheetError(f"表格超过 {MAX_COLUMNS} 列 / the sheet has more than {MAX_COLUMNS} columns")
        names = [str(h or "").strip() for h in header[:MAX_COLUMNS]]
        fields = [HEADERS.get(name) or HEADERS.get(name.lower()) for name in names]
        missing = [h for h, f in (("用户名", "username"), ("姓名", "name"), ("角色", "roles")) if f not in fields]
        if missing:
            raise SheetError(f"缺少列：{'、'.join(missing)} / missing columns; the first row must be "
                             f"{'、'.join(TEMPLATE_HEADERS)}")
        out = []
        for number, row in enumerate(rows, start=2):
            values = {f: _text(v) for f, v in zip(fields, row) if f}
            if not any(values.values()):
                continue
            if len(out) >= MAX_ROWS:
                raise SheetError(f"一次最多导入 {MAX_ROWS} 个账户 / at most {MAX_ROWS} accounts at a time")
            out.append((number, values))
        return out
    except SheetError:
        raise
    except Exception:
        raise SheetError("无法读取该文件，请上传 .xlsx 格式的表格 / the file is not a readable .xlsx sheet") from None
    finally:
        book.close()


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


def import_users(uow, data: bytes) -> Imported:
    """All rows or none: with any bad row nothing is added and every bad row is named."""
    require_admin(uow)
    rows = read_sheet(data)
    if not rows:
        raise SheetError("表格中没有账户 / the sheet holds no accounts")
    errors, pending, seen = [], [], {}
    existing = set(uow.session.scalars(select(User.username).where(
        User.username.in_([r.get("username", "") for _, r in rows]))))
    for number, row in rows:
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
    if errors:
        return Imported([], errors)
    created = []
    for row in pending:
        user, code = add_staff(uow, row["username"], row["name"], parse_roles(row["roles"]), row.get("email"),
                               row.get("phone"))
        created.append((user.username, user.display_name, code))
    uow.audit("user.imported", count=len(created), usernames=[u for u, _, _ in created])
    return Imported(created, [])


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
