"""The address printed on documents comes from configuration, and a serving process says so at
start-up when it is not configured (a log warning and a console line), then warms the documents."""
from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest

from webapp import startup
from workflows.settings import DEFAULT_PUBLIC_URL, Settings, load_settings


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch):
    for name in ("CREDFLOW_PUBLIC_URL", "CREDFLOW_SETTINGS"):
        monkeypatch.delenv(name, raising=False)


def test_unset_it_is_the_local_default_and_known_as_unset():
    settings = Settings()
    assert settings.public_url == DEFAULT_PUBLIC_URL and not settings.public_url_configured


def test_the_environment_sets_it(monkeypatch):
    monkeypatch.setenv("CREDFLOW_PUBLIC_URL", " https://credit.example.gov.cn/ ")
    settings = load_settings()
    assert settings.public_url == "https://credit.example.gov.cn" and settings.public_url_configured
    assert startup.public_url_warning(settings) is None


def test_a_settings_file_sets_it(monkeypatch, tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"public_url": "https://xinyong.example.gov.cn/"}), encoding="utf-8")
    monkeypatch.setenv("CREDFLOW_SETTINGS", str(path))
    settings = load_settings()
    assert settings.public_url == "https://xinyong.example.gov.cn" and settings.public_url_configured


def test_serve_points_documents_at_the_address_it_serves_on(monkeypatch):
    assert startup.serving_settings("127.0.0.1", 8123).public_url == "http://127.0.0.1:8123"
    assert not startup.serving_settings("127.0.0.1", 8123).public_url_configured     # still warned about
    monkeypatch.setattr(startup, "_own_address", lambda: "10.1.2.3")
    assert startup.serving_settings("0.0.0.0", 5000).public_url == "http://10.1.2.3:5000"
    monkeypatch.setenv("CREDFLOW_PUBLIC_URL", "https://credit.example.gov.cn")
    assert startup.serving_settings("0.0.0.0", 5000).public_url == "https://credit.example.gov.cn"


def fake_app(**config):
    return SimpleNamespace(config={"SETTINGS": Settings(), **config}, extensions={})


def test_a_serving_process_warns_on_the_console_and_in_the_log_and_warms(monkeypatch, capsys, caplog):
    warmed = []
    monkeypatch.setattr(startup, "_warm", lambda settings: warmed.append(settings.office_name))
    app = fake_app()
    with caplog.at_level(logging.WARNING, logger="credflow.startup"):
        startup.register(app, serving=True)
    app.extensions["credflow.warmup"].join(timeout=10)
    assert warmed == [Settings().office_name]
    console = capsys.readouterr().err
    assert "CREDFLOW_PUBLIC_URL is not set" in console and DEFAULT_PUBLIC_URL in console
    assert any("CREDFLOW_PUBLIC_URL is not set" in r.getMessage() for r in caplog.records)


def test_configured_it_only_warms(monkeypatch, capsys):
    monkeypatch.setenv("CREDFLOW_PUBLIC_URL", "https://credit.example.gov.cn")
    monkeypatch.setattr(startup, "_warm", lambda settings: None)
    app = fake_app()
    startup.register(app, serving=True)
    app.extensions["credflow.warmup"].join(timeout=10)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("config,serving", [({"TESTING": True}, True), ({}, False), ({"WARM_DOCUMENTS": False}, True)])
def test_test_apps_and_apps_built_with_a_config_neither_warn_nor_warm(monkeypatch, capsys, config, serving):
    monkeypatch.setattr(startup, "_warm", lambda settings: pytest.fail("warmed"))
    app = fake_app(**config)
    startup.register(app, serving=serving)
    assert "credflow.warmup" not in app.extensions and capsys.readouterr().err == ""
