"""The words the admin pages' scripts write come from the page, in the page's language.

The BPMN editor's script looks every text up by its catalog id (`t('用户任务')`) in the texts the page
renders (webapp/admin/editor_text.py); the other scripts read theirs from data-* attributes. So no
script holds Chinese of its own, every id the editor asks for is listed, and each English text keeps
the `{name}` slots the script fills in."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from webapp.admin.editor_text import TEXTS

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "webapp" / "static"
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
T_CALL = re.compile(r"\bt\('((?:[^'\\\n]|\\.)*)'")
SLOT = re.compile(r"\{(\w+)\}")
SCRIPTS = ("admin_editor.js", "migration_progress.js", "import_progress.js", "upload_problems.js", "diff_viewer.js")


def _code(text: str) -> str:
    """The script without its comments."""
    return re.sub(r"^\s*//[^\n]*|/\*.*?\*/", "", text, flags=re.M | re.S)


def _ids() -> list[str]:
    return [m.replace("\\'", "'") for m in T_CALL.findall(_code((STATIC / "admin_editor.js").read_text("utf-8")))]


def test_the_scripts_write_no_chinese_of_their_own():
    found = []
    for name in SCRIPTS:
        code = T_CALL.sub("t(", _code((STATIC / name).read_text("utf-8")))
        found += [f"{name}: {line.strip()[:80]}" for line in code.splitlines() if CJK.search(line)]
    assert not found, "\n".join(found)


def test_every_text_the_editor_asks_for_is_on_the_page():
    used = set(_ids())
    assert used, "the editor's texts were not found"
    assert not used - set(TEXTS), sorted(used - set(TEXTS))
    assert not set(TEXTS) - used, f"listed but never used: {sorted(set(TEXTS) - used)}"


def test_the_english_keeps_the_slots_the_script_fills():
    with (REPO / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    wrong = [f"{msgid!r} -> {catalog[msgid].string!r}" for msgid in TEXTS
             if msgid in catalog and catalog[msgid].string
             and sorted(SLOT.findall(msgid)) != sorted(SLOT.findall(catalog[msgid].string))]
    assert not wrong, "\n".join(wrong)
