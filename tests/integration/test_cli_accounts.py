"""`credflow user ...` and `credflow api-token ...` through click's CliRunner on a migrated database
(SQLite and PostgreSQL): codes printed once, clear errors with exit 1 and nothing saved."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if "webapp" in sys.modules and getattr(sys.modules["webapp"], "__file__", None) is None:
    del sys.modules["webapp"]

from webapp.cli import main  # noqa: E402
from workflows.accounts import check_password, user_for_token  # noqa: E402
from workflows.models import ApiToken, Subject, User  # noqa: E402


@pytest.fixture
def cli(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CREDFLOW_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.delenv("CREDFLOW_SETTINGS", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def count(factory, model) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_user_add_prints_a_code_and_list_shows_the_account(cli, session_factory):
    result = cli("user", "add", "zhang", "--name", "张三", "--role", "clerk", "--role", "reviewer",
                 "--email", "zhang@example.gov.cn")
    assert result.exit_code == 0, result.output
    assert "one-time activation code for zhang:" in result.output
    listing = cli("user", "list")
    assert "zhang" in listing.output and "clerk,reviewer" in listing.output and "active" in listing.output


def test_user_add_with_a_password_must_change_it_and_a_weak_one_is_refused(cli, session_factory):
    weak = cli("user", "add", "li", "--name", "李四", "--role", "clerk", "--password", "123456789")
    assert weak.exit_code == 1 and "常见密码" in weak.output and "至少 10 个字符" in weak.output
    assert count(session_factory, User) == 0
    ok = cli("user", "add", "li", "--name", "李四", "--role", "admin", "--password", "Initial-pass-2026")
    assert ok.exit_code == 0
    with session_factory() as session:
        user = session.scalars(select(User)).one()
    assert user.must_change_password and check_password(user.password_hash, "Initial-pass-2026")


def test_a_subject_account_with_a_bad_code_names_the_field_and_saves_nothing(cli, session_factory):
    bad = cli("user", "add", "liaison", "--name", "刘", "--role", "subject", "--subject", "91350100M000100Y44")
    assert bad.exit_code == 1 and "统一社会信用代码" in bad.output and "校验位错误" in bad.output
    assert count(session_factory, User) == 0 and count(session_factory, Subject) == 0
    unregistered = cli("user", "add", "liaison", "--name", "刘", "--subject", "91350100M000100Y43")
    assert unregistered.exit_code == 1 and "请填写主体名称" in unregistered.output
    assert count(session_factory, User) == 0 and count(session_factory, Subject) == 0
    ok = cli("user", "add", "liaison", "--name", "刘", "--subject", "91350100M000100Y43", "--subject-name", "某市财政局")
    assert ok.exit_code == 0 and "one-time activation code for liaison:" in ok.output
    person = cli("user", "add", "p1", "--name", "杨某", "--subject", "11010519491231002X")
    assert person.exit_code == 0, person.output
    with session_factory() as session:
        names = dict(session.execute(select(Subject.code, Subject.name)).all())
    assert names == {"91350100M000100Y43": "某市财政局", "11010519491231002X": "杨某"}


def test_edit_roles_deactivate_and_reset(cli, session_factory):
    cli("user", "add", "wang", "--name", "王五", "--role", "clerk")
    assert cli("user", "edit", "wang", "--name", "王五五", "--phone", "13800000000").exit_code == 0
    assert cli("user", "roles", "wang", "clerk", "leader").exit_code == 0
    unknown = cli("user", "roles", "wang", "boss")
    assert unknown.exit_code == 1 and "未知角色：boss" in unknown.output
    reset = cli("user", "reset-password", "wang")
    assert reset.exit_code == 0 and "one-time activation code for wang:" in reset.output
    assert cli("user", "deactivate", "wang").exit_code == 0
    with session_factory() as session:
        user = session.scalars(select(User)).one()
    assert (user.display_name, user.phone, user.role_codes, user.active) == ("王五五", "13800000000",
                                                                           {"clerk", "leader"}, False)
    missing = cli("user", "deactivate", "nobody")
    assert missing.exit_code == 1 and "没有用户 nobody" in missing.output


def test_api_token_create_list_revoke(cli, session_factory):
    cli("user", "add", "bot", "--name", "接口", "--role", "clerk")
    created = cli("api-token", "create", "bot", "--name", "交换平台")
    assert created.exit_code == 0
    token = created.output.strip()
    with session_factory() as session:
        assert user_for_token(session, token) is not None
        token_id = session.scalars(select(ApiToken.id)).one()
    listing = cli("api-token", "list", "bot")
    assert "交换平台" in listing.output and "active" in listing.output
    assert cli("api-token", "revoke", str(token_id)).exit_code == 0
    with session_factory() as session:
        assert user_for_token(session, token) is None
    assert "revoked" in cli("api-token", "list").output
    assert cli("api-token", "revoke", "999").exit_code == 1
