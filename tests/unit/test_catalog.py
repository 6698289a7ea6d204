"""English is complete, and the code keeps the two languages apart.

Every message id the code marks for translation (`_`, `_l`, `gettext`, `ngettext` in the web app,
`N_` and the UserError ids in the domain, the templates' `{% trans %}` and `_()`) has an English
translation in the catalog, with the same placeholders and no Chinese in it; and no string in the
code is a "中文 / English" pair that would bypass the catalog."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[2]
PO = REPO / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "N_": None}
METHODS = [("workflows/**.py", "python"), ("webapp/**.py", "python"), ("webapp/templates/**.html", "jinja2")]
# a pair: Chinese text, " / ", then an English word (the old way of writing both languages at once)
PAIR = re.compile(r"[\u4e00-\u9fff）」][^\"'\n]{0,40}? / [A-Za-z]{2,}")


def marked_ids() -> dict[str, str]:
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(REPO), METHODS, keywords=KEYWORDS,
            options_map={"webapp/templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            if msgid and CJK.search(msgid):
                found.setdefault(msgid, filename)
    return found


def catalog():
    with PO.open("rb") as fh:
        return read_po(fh)


def test_every_marked_message_has_an_english_translation():
    po = catalog()
    missing = {msgid: where for msgid, where in marked_ids().items()
               if msgid not in po or not po[msgid].string}
    assert not missing, f"{len(missing)} ids without English, e.g. " + "; ".join(
        f"{where}: {msgid!r}" for msgid, where in list(missing.items())[:15])


def test_english_translations_are_english_and_keep_the_placeholders():
    wrong = []
    for message in catalog():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in texts:
            if CJK.search(re.sub(r"“[^”]*”", "", text)):   # a quoted Chinese separator is fine
                wrong.append(f"Chinese in English text: {text!r}")
            if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(ids[0])) and len(ids) == 1:
                wrong.append(f"placeholders differ: {ids[0]!r} -> {text!r}")
    assert not wrong, "\n".join(wrong[:20])


def test_no_two_language_pairs_in_code():
    """A string literal such as "名称必填 / the name is required" bypasses the catalog."""
    pairs = []
    for path in sorted([*REPO.glob("workflows/**/*.py"), *REPO.glob("webapp/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                    and PAIR.search(node.value):
                pairs.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value[:70]!r}")
    assert not pairs, f"{len(pairs)} two-language strings, e.g.\n" + "\n".join(pairs[:20])
