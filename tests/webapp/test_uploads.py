"""Evidence files. The shipped forms have no file field, so webapp.uploads is tested directly
(in a request context of the app: messages are translated per request), plus the download route."""
from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

import webapp
from credflow_web import Page
from webapp.uploads import UploadRefused, sniff, store_upload
from workflows.models import Attachment

LIMIT = 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
PDF = b"%PDF-1.7\n" + b"1 0 obj\n" * 10
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 50
EXE = b"MZ\x90\x00" + b"\x00" * 100


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAX_UPLOAD_BYTES": LIMIT}


@pytest.fixture
def store(app, world):
    """store_upload(body, name, accept=...) inside a request; returns the Attachment (committed)."""
    factory = app.extensions["credflow.session_factory"]

    def run(body: bytes, name: str, case_id=None, **kwargs):
        with app.test_request_context("/"), factory() as session:
            storage = FileStorage(stream=BytesIO(body), filename=name)
            att = store_upload(session, storage, case_id, world.user_ids["reviewer"], world.clock.now(), **kwargs)
            session.commit()
            return att
    return run


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _attachments(world) -> int:
    with world.factory() as session:
        return session.scalar(select(func.count()).select_from(Attachment))


def test_sniff_reads_the_content_not_the_name():
    assert sniff(PDF[:16]) == "application/pdf"
    assert sniff(PNG[:16]) == "image/png"
    assert sniff(JPEG[:16]) == "image/jpeg"
    assert sniff(EXE[:16]) is None
    assert sniff(b"") is None
    assert sniff(b"<html><script>") is None


def test_accepted_file_is_stored_under_the_instance_folder_by_its_hash(app, store, instance_dir, world):
    att = store(PNG, "scan.png")
    assert (att.content_type, att.size, att.filename) == ("image/png", len(PNG), "scan.png")
    digest = hashlib.sha256(PNG).hexdigest()
    assert att.sha256 == digest
    uploads = Path(app.config["UPLOAD_FOLDER"])
    assert uploads == instance_dir / "uploads"
    assert _files(uploads) == [uploads / digest[:2] / digest]
    assert (uploads / digest[:2] / digest).read_bytes() == PNG
    # nothing under the web server's static folder
    static = Path(webapp.__file__).parent / "static"
    assert not any(digest in p.name or p.name == "scan.png" for p in static.rglob("*"))
    assert _attachments(world) == 1


def test_same_content_twice_is_stored_once(app, store):
    first, second = store(PDF, "a.pdf"), store(PDF, "b.pdf")
    assert first.id != second.id and first.sha256 == second.sha256
    assert len(_files(Path(app.config["UPLOAD_FOLDER"]))) == 1


def test_file_at_the_limit_is_accepted_and_one_byte_more_is_refused(app, store, world):
    assert store(b"%PDF-" + b"x" * (LIMIT - 5), "limit.pdf").size == LIMIT
    with pytest.raises(UploadRefused, match="超过大小上限"):
        store(b"%PDF-" + b"x" * (LIMIT - 4), "big.pdf")
    assert _attachments(world) == 1
    assert len(_files(Path(app.config["UPLOAD_FOLDER"]))) == 1


def test_forbidden_types_are_refused_whatever_the_name(app, store, world):
    with pytest.raises(UploadRefused, match="类型不允许"):
        store(EXE, "evidence.pdf")
    with pytest.raises(UploadRefused, match="类型不允许"):
        store(b"<html><script>alert(1)</script>", "page.png")
    # a PNG named .pdf where only PDFs are accepted
    with pytest.raises(UploadRefused, match="evidence.pdf 的类型不允许"):
        store(PNG, "evidence.pdf", accept=("application/pdf",))
    assert _attachments(world) == 0
    assert _files(Path(app.config["UPLOAD_FOLDER"])) == []


def test_empty_file_is_refused(app, store, world):
    with pytest.raises(UploadRefused, match="empty.pdf 是空文件"):
        store(b"", "empty.pdf")
    assert _attachments(world) == 0
    assert _files(Path(app.config["UPLOAD_FOLDER"])) == []


def test_a_path_in_the_file_name_is_dropped(app, store, instance_dir):
    att = store(JPEG, "../../../etc/cron.d/photo.jpg")
    assert att.filename == "photo.jpg"
    assert all(instance_dir in p.parents for p in _files(Path(app.config["UPLOAD_FOLDER"])))


def test_attachment_is_listed_on_the_case_and_downloaded_by_staff_only(web, world, store):
    _, case_id = world.open_record()
    att = store(PDF, "判决书.pdf", case_id=case_id)
    b = web("reviewer")
    page = Page(b.get(f"/cases/{case_id}"))
    links = page.xpath(f'//a[@href="/attachments/{att.id}"]')
    assert [a.text_content() for a in links] == ["判决书.pdf"]
    response = b.get(f"/attachments/{att.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert web("subject").get(f"/attachments/{att.id}").status_code == 403
    anonymous = web().get(f"/attachments/{att.id}")
    assert anonymous.status_code == 302
    assert b.get("/attachments/999").status_code == 404


def test_a_file_not_yet_filed_with_a_case_is_its_uploaders_only(web, world, store):
    att = store(PDF, "未提交表单的附件.pdf")          # uploaded by `reviewer` with a form that did not go through
    assert web("reviewer").get(f"/attachments/{att.id}").data == PDF
    for other in ("reviewer2", "clerk", "leader"):
        assert web(other).get(f"/attachments/{att.id}").status_code == 404


def test_upload_limit_comes_from_the_config(app):
    assert app.config["MAX_UPLOAD_BYTES"] == LIMIT
    assert app.config["MAX_CONTENT_LENGTH"] == LIMIT * 5 + 1024 * 1024
