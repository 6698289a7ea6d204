"""One language per page: every page (test_no_raw_keys's crawl: every GET route of the route matrix
and every case and application page), as every caller, in Chinese and in English, shows text of its
own language only.

What a user sees is the page's text plus its placeholders, tooltips (`title`), `alt` and `aria-label`
texts and button values, without scripts and styles. The world's data is taken out first, collected
from the database: subject, user and department names, record facts and legal bases, comments, file
names, document numbers and titles, typed form answers, notes, token names. Then:
- an English page may keep no Chinese character (nor Chinese punctuation such as `，` `（` `、`);
- a Chinese page may keep no English word (three Latin letters or more), except proper names and
  acronyms (PROPER below), addresses, file suffixes and hashes;
- an element marked with another `lang` (the language switcher's `English` / `中文`) is that
  language on purpose and is left out.
Raw codes are test_no_raw_keys's (the same world and pages), looked for in the same crawl. The
crawl runs on SQLite only (one_database): the words come from the templates and the catalog."""
from __future__ import annotations

import json
import re
from html import unescape as html_unescape
from pathlib import Path

import pytest
from lxml import html as lxml_html
from sqlalchemy import JSON, select

from test_no_raw_keys import CALLERS, _sqlite_template, objects, raw_keys, urls, visible_text  # noqa: F401  (fixtures reused)
from test_route_matrix import USERNAMES
from workflows.models import Base, ProcessDefinition, User

REPO = Path(__file__).resolve().parents[2]

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]+")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
# names and acronyms that stay as they are in Chinese text
PROPER = {"credflow", "PDF", "BPMN", "DMN", "API", "JSON", "CSV", "SVG", "SHA", "PAdES", "OpenAPI", "bpmn", "io",
          "Excel", "XML", "HTML", "URL", "UTC", "CST", "xlsx", "csv", "pdf", "jpg", "png", "docx", "ofd",
          "HTTP", "HTTPS", "Bearer", "WAL", "SQLite", "PostgreSQL", "USCC", "ISO", "Chromium", "Chrome",
          "Edge", "Firefox", "Safari", "SpiffWorkflow", "RestrictedPython", "bpmn-js", "Camunda", "Bootstrap",
          "pyHanko", "WeasyPrint", "PKCS", "OTP", "TOTP", "FEEL", "JavaScript", "Python", "Flask", "Modeler", "UTF",
          "Schema", "PPP", "PNG", "JPEG", "Ctrl", "Shift", "Alt", "Enter", "Esc", "iCalendar", "iCal", "ics"}
# not words: addresses, e-mails, file names, hashes, identifiers in code font are matched before words
# (format hints such as XXXX-XXXX-XXXX or YYYY-MM-DD are no words either)
NOT_WORDS = re.compile(r"https?://\S+|\b(?:X+|Y{2,4}|M{1,2}|D{1,2})(?:[-/](?:X+|Y{2,4}|M{1,2}|D{1,2}))+\b|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b[0-9a-f]{12,}\b|\b[\w-]+\.(?:pdf|csv|xlsx|json|bpmn|dmn|png|jpg|docx|zip)\b",
                       re.IGNORECASE)
SHOWN_ATTRIBUTES = ("placeholder", "title", "alt", "aria-label")

# the columns users type into (never codes: a status or kind column holds codes, which must not hide)
DATA_COLUMNS = {
    "subject": ("name", "code"), "user_account": ("display_name", "email", "phone"),
    "record": ("facts", "legal_basis", "project"), "comment": ("author_name", "body"),
    "attachment": ("filename", "sha256"), "document": ("number", "title", "verification_code", "sha256",
                                                       "supersede_reason"),
    "case": ("outcome_reason",), "post_holding": ("title", "project"), "integrity_entry": ("summary", "source"),
    "workday_override": ("note",), "calendar_year": ("note",), "api_token": ("name",),
    "human_task": ("subject_name",), "user_session": ("user_agent", "ip"),
    "lookup": ("query", "deal_ref", "checker_name", "outcome_reason", "username", "outcome_by"),
    "evaluation_objection": ("text", "reason"), "evaluation_score": ("adjustment_reason",),
}
# JSON the users' answers are kept in: only its Chinese texts count as data (its Latin strings are codes)
DATA_JSON = {"audit_event": ("data",), "task_draft": ("data",), "document": ("source_data",),
             "sharing_item": ("payload",), "record": ("sanctions", "mitigation"), "case": ("state",),
             "migration_job": ("blocked",)}


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str):
        if value[:1] in "{[":
            try:
                yield from _leaves(json.loads(value))
                return
            except ValueError:
                pass
        yield value


def _catalog_ids() -> set[str]:
    from babel.messages.pofile import read_po
    with (REPO / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return {m.id for m in read_po(fh) if isinstance(m.id, str)}


def _process_texts(session) -> set[str]:
    """The names and titles the shipped processes and forms give: words of the system, not data."""
    texts = set()
    for bpmn, forms in session.execute(select(ProcessDefinition.bpmn_files, ProcessDefinition.forms)):
        for xml in bpmn.values():
            texts.update(html_unescape(t) for t in re.findall(r'\bname="([^"]*)"', xml))
        texts.update(_leaves(forms))
    return texts


def world_data(session_factory) -> list[str]:
    """The texts of the world's data, longest first, with whitespace as the pages show it: what
    users typed or uploaded, and the names they gave. A text the catalog translates, or a name a
    shipped process or form gives, is the system's own wording and never data."""
    found = set()
    tables = Base.metadata.tables
    with session_factory() as session:
        for name, columns in DATA_COLUMNS.items():
            table = tables[name]
            for row in session.execute(select(*(table.c[c] for c in columns))):
                found.update(v for v in row if isinstance(v, str))
        for name, columns in DATA_JSON.items():
            table = tables[name]
            for row in session.execute(select(*(table.c[c] for c in columns))):
                for value in row:
                    found.update(v for v in _leaves(value) if CJK.search(v))
        found -= _process_texts(session)
    found -= _catalog_ids()
    texts = {" ".join(t.split()) for t in found}
    return sorted((t for t in texts if len(t) >= 2), key=len, reverse=True)


def usernames(session_factory) -> set[str]:
    with session_factory() as session:
        return set(session.scalars(select(User.username)))


def shown_text(body: str, language: str, names: set[str] = frozenset()) -> str:
    """The text a user sees, attributes a user reads included. Left out: elements in another `lang`;
    literal text (`code`, `kbd`, `samp`: what is typed or read from a file as it stands); an element
    whose whole text is a user name (a user name spelled like a role code is data there only)."""
    doc = lxml_html.fromstring(body)
    for element in doc.xpath("//script | //style | //template | //body//code | //body//kbd | //body//samp"):
        element.drop_tree()
    for element in doc.xpath("//body//*[not(*)]"):
        if (element.text or "").strip() in names:
            element.text = " ▯ "
    own = "en" if language == "en" else "zh"
    for element in doc.xpath("//body//*[@lang]"):
        if not element.get("lang", "").lower().startswith(own):
            element.drop_tree()
    parts = [doc.text_content()]
    for element in doc.xpath("//body//*"):
        parts += [element.get(a) for a in SHOWN_ATTRIBUTES if element.get(a)]
        if element.tag == "input" and element.get("type") in ("submit", "button") and element.get("value"):
            parts.append(element.get("value"))
    return " ".join(" ".join(parts).split())


def other_language(text: str, language: str, data: list[str]) -> list[str]:
    """Snippets of the other language left once the world's data is taken out."""
    for item in data:
        if item in text:
            text = text.replace(item, " ▯ ")
    found = []
    if language == "en":
        for match in CJK.finditer(text):
            found.append(_snippet(text, match))
    else:
        text = NOT_WORDS.sub(" ", text)
        for match in LATIN_WORD.finditer(text):
            if match.group(0) not in PROPER:
                found.append(_snippet(text, match))
    return found


def _snippet(text: str, match) -> str:
    return f"{match.group(0)!r} in …{text[max(0, match.start() - 30):match.end() + 30]}…"


@pytest.mark.one_database
@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_page_speaks_one_language_and_shows_no_raw_code(app, web, objects, session_factory, language):
    """One crawl for both checks (test_no_raw_keys's codes, this module's other language)."""
    pages, names = urls(app, objects), usernames(session_factory)
    problems, codes, seen = {}, [], 0
    for caller in CALLERS:
        browser = web(USERNAMES[caller]) if caller != "anonymous" else web()
        data = world_data(session_factory)       # after the login: its session's browser name is data too
        for url in pages:
            response = browser.get(url + ("&" if "?" in url else "?") + "lang=en" if language == "en" else url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            seen += 1
            body = response.get_data(as_text=True)
            assert lxml_html.fromstring(body).get("lang", "").startswith(language), url
            codes += [f"{caller:13} {url}: {found}" for found in raw_keys(visible_text(body), language)]
            for found in other_language(shown_text(body, language, names), language, data):
                page = re.sub(r"/\d+", "/<id>", url)
                problems.setdefault((page, found.split(" in ")[0]), f"{caller:13} {url}: {found}")
    assert seen > 100, seen
    assert not codes, f"{len(codes)} raw codes on {seen} pages:\n" + "\n".join(codes[:60])
    listed = sorted(problems.values(), key=lambda line: line.split()[1])
    assert not listed, f"{len(listed)} texts of the other language on {seen} pages:\n" + "\n".join(listed[:150])


def test_the_crawl_sees_the_other_language():
    """The search itself: foreign text is found, data, proper names and marked elements are not."""
    data = ["张三公司", "逾期未支付。"]
    page = ('<html><body><p title="提示">Record of 张三公司: 逾期未支付。</p>'
            '<a lang="zh-CN" href="?lang=zh_CN">中文</a></body></html>')
    assert [f.split()[0] for f in other_language(shown_text(page, "en"), "en", data)] == ["'提示'"]
    zh = '<html><body><p>张三公司 的 PDF 文件 a.pdf，状态 published</p><a lang="en">English</a></body></html>'
    assert [f.split()[0] for f in other_language(shown_text(zh, "zh"), "zh", data)] == ["'published'"]
    assert other_language(shown_text('<p>导出 CSV（SHA-256: 3fa9bc0e11aa22cc），日期格式 YYYY-MM-DD</p>', "zh"), "zh", []) == []
    names = shown_text('<html><body><dl><dt>用户名</dt><dd>clerk</dd></dl><p>办理角色：clerk</p></body></html>', "zh",
                       {"clerk"})
    assert [f.split()[0] for f in other_language(names, "zh", [])] == ["'clerk'"]   # a user name, not a lane


def test_the_shipped_processes_and_forms_have_english():
    """The names the shipped diagrams give (tasks, events, gateways, flows) and every title,
    description and option of the shipped forms are catalog ids with English (the pages show them
    through `named`; pybabel does not read BPMN or JSON, so this is their catalog check)."""
    from babel.messages.pofile import read_po
    with (REPO / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        english = {m.id: m.string for m in read_po(fh) if isinstance(m.id, str)}
    texts = {}
    for path in sorted((REPO / "bpmn").glob("*.[bd][pm][mn]*")):
        for name in re.findall(r'\bname="([^"]*)"', path.read_text(encoding="utf-8")):
            texts.setdefault(html_unescape(name), path.name)

    def walk(value, key, where):
        if isinstance(value, dict):
            for k, item in value.items():
                walk(item, k, where)
        elif isinstance(value, list):
            for item in value:
                walk(item, key, where)
        elif isinstance(value, str) and key in ("title", "description"):
            texts.setdefault(value, where)
    for path in sorted((REPO / "forms").glob("*/*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")), None, f"{path.parent.name}/{path.name}")
    missing = [f"{where}: {text!r}" for text, where in texts.items() if CJK.search(text) and not english.get(text)]
    assert not missing, f"{len(missing)} names without English:\n" + "\n".join(missing[:30])
