"""Accounts through the services, on SQLite and PostgreSQL: one-time activation codes, the password
policy, subject accounts tied to a subject by a checked code, the admin's lock-out guards, the
all-or-none sheet import. Every check looks at what the user would notice (can they log in, does
the account change) with an explicit FixedClock."""
from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from workflows.accounts import AccountError, check_password, create_user
from workflows.models import ActivationCode, AuditEvent, Subject, User
from workflows.runtime import Actor, UnitOfWork
from workflows.user_sheet import SheetError, import_users, template_xlsx
from workflows.users import (activate, add_staff, change_password, deactivate, invite_subject, reset_password,
                             set_roles)

GOOD = "Huaihe-river-2026"
USCC_OK = "91350100M000100Y43"
USCC_BAD = "91350100M000100Y44"          # the last character is not the check character
CITIZEN_OK = "11010519491231002X"
CITIZEN_BAD = "110105194912310021"


@pytest.fixture
def admin(session_factory, clock):
    with UnitOfWork(session_factory, Actor.system("test"), clock) as uow:
        user = create_user(uow, "root", "root-password-1", "系统管理员", ["admin"])
        uow.commit()
    return Actor.of(user)


def run(factory, clock, actor, fn, *args, **kwargs):
    with UnitOfWork(factory, actor, clock) as uow:
        result = fn(uow, *args, **kwargs)
        uow.commit()
        return result


def user(factory, username) -> User:
    with factory() as session:
        return session.scalars(select(User).where(User.username == username)).one()


def snapshot(factory, username):
    u = user(factory, username)
    with factory() as session:
        codes = session.execute(select(ActivationCode.id, ActivationCode.used_at).where(
            ActivationCode.user_id == u.id).order_by(ActivationCode.id)).all()
    return u.password_hash, u.must_change_password, u.active, codes


def test_an_activation_code_sets_the_password_once(session_factory, clock, admin):
    account, code = run(session_factory, clock, admin, add_staff, "zhang.san", "张三", ["clerk"], "zs@example.gov.cn")
    assert code and account.must_change_password
    assert not check_password(user(session_factory, "zhang.san").password_hash, "")   # no usable password yet
    run(session_factory, clock, Actor.system("activation"), activate, "zhang.san", code.lower(), GOOD, GOOD)
    u = user(session_factory, "zhang.san")
    assert check_password(u.password_hash, GOOD) and not u.must_change_password
    before = snapshot(session_factory, "zhang.san")
    with pytest.raises(AccountError, match="已使用过"):
        run(session_factory, clock, Actor.system("activation"), activate, "zhang.san", code, "Other-pass-2026", "Other-pass-2026")
    assert snapshot(session_factory, "zhang.san") == before
    assert check_password(user(session_factory, "zhang.san").password_hash, GOOD)


def test_an_expired_code_is_refused_and_nothing_changes(session_factory, clock, admin):
    _, code = run(session_factory, clock, admin, add_staff, "li.si", "李四", ["reviewer"])
    before = snapshot(session_factory, "li.si")
    clock.advance(days=7, seconds=1)
    with pytest.raises(AccountError, match="已过期"):
        run(session_factory, clock, Actor.system("activation"), activate, "li.si", code, GOOD, GOOD)
    assert snapshot(session_factory, "li.si") == before


def test_a_code_for_another_user_is_refused_and_neither_account_changes(session_factory, clock, admin):
    _, code_a = run(session_factory, clock, admin, add_staff, "wang.wu", "王五", ["clerk"])
    run(session_factory, clock, admin, add_staff, "zhao.liu", "赵六", ["clerk"])
    before = snapshot(session_factory, "wang.wu"), snapshot(session_factory, "zhao.liu")
    with pytest.raises(AccountError, match="不属于该用户"):
        run(session_factory, clock, Actor.system("activation"), activate, "zhao.liu", code_a, GOOD, GOOD)
    with pytest.raises(AccountError, match="不属于该用户"):
        run(session_factory, clock, Actor.system("activation"), activate, "zhao.liu", "AAAA-BBBB-CCCC", GOOD, GOOD)
    assert (snapshot(session_factory, "wang.wu"), snapshot(session_factory, "zhao.liu")) == before


def test_a_reset_stops_the_old_password_and_its_code_replaces_earlier_ones(session_factory, clock, admin):
    _, first = run(session_factory, clock, admin, add_staff, "qian", "钱七", ["clerk"])
    run(session_factory, clock, Actor.system("a"), activate, "qian", first, GOOD, GOOD)
    u = user(session_factory, "qian")
    second = run(session_factory, clock, admin, reset_password, u.id)
    third = run(session_factory, clock, admin, reset_password, u.id)
    assert not check_password(user(session_factory, "qian").password_hash, GOOD)
    with pytest.raises(AccountError, match="已过期"):          # the earlier code was superseded
        run(session_factory, clock, Actor.system("a"), activate, "qian", second, "New-pass-0912", "New-pass-0912")
    run(session_factory, clock, Actor.system("a"), activate, "qian", third, "New-pass-0912", "New-pass-0912")
    assert check_password(user(session_factory, "qian").password_hash, "New-pass-0912")


@pytest.mark.parametrize("new, message", [
    ("short-1", "至少 10 个字符"),
    ("woaini1314", "常见密码"),
    ("1qaz2wsx", "常见密码"),
    ("A1234567890", "常见密码"),
    ("zhou.jiu-2026-x", "不能包含用户名"),
])
def test_the_password_policy_names_what_is_wrong(session_factory, clock, admin, new, message):
    _, code = run(session_factory, clock, admin, add_staff, "zhou.jiu", "周九", ["clerk"])
    before = snapshot(session_factory, "zhou.jiu")
    with pytest.raises(AccountError, match=message):
        run(session_factory, clock, Actor.system("a"), activate, "zhou.jiu", code, new, new)
    assert snapshot(session_factory, "zhou.jiu") == before
    with pytest.raises(AccountError, match="两次输入的新密码不一致"):
        run(session_factory, clock, Actor.system("a"), activate, "zhou.jiu", code, GOOD, GOOD + "x")


def test_changing_ones_password_needs_the_current_one(session_factory, clock, admin):
    with UnitOfWork(session_factory, Actor.system("t"), clock) as uow:
        me = Actor.of(create_user(uow, "wu", "old-password-77", "吴十", ["clerk"]))
        uow.commit()
    with pytest.raises(AccountError, match="当前密码不正确"):
        run(session_factory, clock, me, change_password, "wrong", GOOD, GOOD)
    run(session_factory, clock, me, change_password, "old-password-77", GOOD, GOOD)
    assert check_password(user(session_factory, "wu").password_hash, GOOD)


def test_only_an_admin_manages_accounts(session_factory, clock, admin):
    with UnitOfWork(session_factory, Actor.system("t"), clock) as uow:
        clerk = Actor.of(create_user(uow, "clerk1", "clerk-password-1", "承办", ["clerk"]))
        uow.commit()
    with pytest.raises(PermissionError, match="只有系统管理员"):
        run(session_factory, clock, clerk, add_staff, "x.y", "某某", ["admin"])
    with pytest.raises(PermissionError):
        run(session_factory, clock, clerk, set_roles, clerk.user_id, ["admin"])
    assert user(session_factory, "clerk1").role_codes == {"clerk"}


def test_the_admin_cannot_lock_themself_out(session_factory, clock, admin):
    with pytest.raises(AccountError, match="不能停用自己的账户"):
        run(session_factory, clock, admin, deactivate, admin.user_id)
    with pytest.raises(AccountError, match="不能取消自己的系统管理员角色"):
        run(session_factory, clock, admin, set_roles, admin.user_id, ["clerk"])
    u = user(session_factory, "root")
    assert u.active and u.role_codes == {"admin"}
    run(session_factory, clock, admin, set_roles, admin.user_id, ["admin", "manager"])    # adding is fine
    assert user(session_factory, "root").role_codes == {"admin", "manager"}


def test_a_deactivated_account_keeps_its_row_and_audit_name(session_factory, clock, admin):
    account, _ = run(session_factory, clock, admin, add_staff, "zheng", "郑一", ["clerk"])
    run(session_factory, clock, admin, deactivate, account.id)
    u = user(session_factory, "zheng")
    assert not u.active and u.deactivated_at == clock.now()
    with session_factory() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[0] == "user.created" and actions[-1] == "user.deactivated"


def test_a_subject_account_is_tied_to_a_subject_found_or_registered_by_a_checked_code(session_factory, clock, admin):
    liaison, code = run(session_factory, clock, admin, invite_subject, "liaison1", "刘联络", kind="department",
                        code=USCC_OK, subject_name="某市财政局")
    with session_factory() as session:
        subject = session.get(Subject, liaison.subject_id)
    assert subject.code == USCC_OK and subject.name == "某市财政局" and liaison.role_codes == {"subject"} and code
    second, _ = run(session_factory, clock, admin, invite_subject, "liaison2", "陈联络", kind="department", code=USCC_OK)
    assert second.subject_id == subject.id                    # the same department, not registered twice
    person, _ = run(session_factory, clock, admin, invite_subject, "p.one", "杨某", kind="civil_servant",
                    code=CITIZEN_OK)
    assert person.subject_id not in (None, subject.id)


@pytest.mark.parametrize("kind, code, field", [("department", USCC_BAD, "统一社会信用代码"),
                                               ("civil_servant", CITIZEN_BAD, "公民身份号码")])
def test_a_code_failing_its_check_character_is_refused_naming_the_field(session_factory, clock, admin, kind, code,
                                                                         field):
    with pytest.raises(AccountError, match=f"{field}.*校验位错误"):
        run(session_factory, clock, admin, invite_subject, "someone", "某人", kind=kind, code=code, subject_name="某单位")
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Subject)) == 0
        assert session.scalar(select(func.count()).select_from(User)) == 1


# -- sheet import --------------------------------------------------------------------------------

def sheet(*rows, header=("用户名", "姓名", "角色", "邮箱", "电话")) -> bytes:
    book = Workbook()
    book.active.append(list(header))
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_sheet_goes_in_whole_with_a_code_per_account(session_factory, clock, admin):
    data = sheet(("zhangsan", "张三", "承办人", "zs@example.gov.cn", 13800000000),
                 ("lisi", "李四", "审核人、分管领导", None, None), ("ops", "运维", "admin, manager", "", ""))
    result = run(session_factory, clock, admin, import_users, data)
    assert result.errors == [] and [u for u, _, _ in result.created] == ["zhangsan", "lisi", "ops"]
    assert all(code for _, _, code in result.created)
    assert user(session_factory, "lisi").role_codes == {"reviewer", "leader"}
    assert user(session_factory, "zhangsan").phone == "13800000000"
    assert user(session_factory, "ops").role_codes == {"admin", "manager"}


def test_a_sheet_with_bad_rows_adds_nobody_and_names_every_bad_row(session_factory, clock, admin):
    data = sheet(("good", "好人", "承办人", "", ""), ("root", "重名", "承办人", "", ""),
                 ("dup", "甲", "审核人", "", ""), ("dup", "乙", "审核人", "", ""),
                 ("boss", "丙", "老板", "", ""), ("noname", "", "承办人", "", ""),
                 ("mail", "丁", "承办人", "not-an-email", ""))
    result = run(session_factory, clock, admin, import_users, data)
    assert result.created == []
    assert [str(e) for e in result.errors] == [       # every problem, by row and column
        "第 3 行 · 用户名：用户名 root 已存在", "第 5 行 · 用户名：用户名 dup 与第 4 行重复", "第 6 行 · 角色：未知角色：老板",
        "第 7 行 · 姓名：姓名必填", "第 8 行 · 邮箱：邮箱格式不正确：not-an-email"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("data, message", [
    (b"PK\x03\x04 not really a zip", r"文件不是有效的 \.xlsx"),
    (b"username,name\nx,y\n", r"文件不是有效的 \.xlsx"),
    (b"x" * (1024 * 1024 + 1), "文件超过"),
    (sheet(("a", "b"), header=("账号", "名字")), "缺少列：用户名、姓名、角色"),
])
def test_a_malformed_sheet_is_a_clear_error(session_factory, clock, admin, data, message):
    with pytest.raises(SheetError, match=message):
        run(session_factory, clock, admin, import_users, data)


def test_the_template_has_the_headers_and_imports_as_it_is(session_factory, clock, admin):
    result = run(session_factory, clock, admin, import_users, template_xlsx())
    assert [u for u, _, _ in result.created] == ["zhangsan", "lisi"]


def test_role_names_in_the_sheet_are_the_ones_the_pages_show():
    from webapp.labels import ROLE
    from workflows.user_sheet import ROLE_NAMES
    shown = {code: label._args[0] for code, label in ROLE.items() if code != "subject"}
    assert all(ROLE_NAMES[name] == code for code, name in shown.items())
