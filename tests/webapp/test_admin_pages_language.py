"""The admin and personnel pages' own words in the page's language: the migration progress, the
words the BPMN editor's script writes (rendered by the page), the roster's post names."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from credflow_web import password
from workflows.accounts import create_user
from workflows.migration import start_job
from workflows.models import ProcessDefinition
from workflows.runtime import Actor

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")


def _job(world) -> int:
    with world.uow("manager") as uow:
        definition = uow.session.scalars(select(ProcessDefinition).where(
            ProcessDefinition.key == "record_lifecycle")).first()
        job = start_job(uow, definition, definition)
        uow.commit()
        return job.id


def test_the_migration_progress_speaks_the_pages_language(world, web):
    job, manager = _job(world), web("manager")
    zh = manager.get(f"/admin/migrations/{job}").get_data(as_text=True)
    assert re.search(r'id="progress-text"[^>]*>已处理 0 / \d+ 个案件 · 已迁移 0 个 · 不能迁移 0 个 · 迁移中…<', zh)
    en = manager.get(f"/admin/migrations/{job}?lang=en").get_data(as_text=True)
    assert re.search(r'>0 / \d+ cases processed · 0 migrated · 0 cannot be migrated · Migrating…<', en)
    assert 'data-text-done="Migration finished"' in en


def test_the_editors_words_come_from_the_page_in_its_language(world, web):
    manager = web("manager")
    for lang, expected in (("zh_CN", "用户任务"), ("en", "User task")):
        page = manager.get(f"/admin/processes/record_lifecycle/editor?lang={lang}").get_data(as_text=True)
        texts = json.loads(re.search(r"data-text='([^']*)'", page).group(1).replace("&#34;", '"'))
        assert texts["用户任务"] == expected
        assert texts["校验发现 {n} 个问题"] == ("校验发现 {n} 个问题" if lang == "zh_CN" else "Validation found {n} problems")
    english = [text for text in texts.values() if CJK.search(text)]
    assert not english, english[:5]


def test_roster_post_names_follow_the_language(world, web):
    with world.uow("manager") as uow:
        user = create_user(uow, "personnel", password("personnel"), "钱人事", ["personnel"])
        world.actors["personnel"], world.user_ids["personnel"] = Actor.of(user), user.id
        uow.commit()
    personnel = web("personnel")
    zh = personnel.get("/personnel/roster").get_data(as_text=True)
    assert ">主要负责人</option>" in zh
    en = personnel.get("/personnel/roster?lang=en").get_data(as_text=True)
    assert ">Principal</option>" in en and "主要负责人" not in en
