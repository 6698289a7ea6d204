"""The documents' typeface: Noto Serif CJK SC cut down to the common characters (GB 2312, Latin,
punctuation), regular and bold, made once per machine with HarfBuzz (the system library WeasyPrint
subsets with) and kept in ~/.cache/credflow/fonts.

Why: the system face has 65,535 glyphs and WeasyPrint keeps glyph ids when it subsets a font for a
PDF, so every document carried a font program sized by the highest glyph id used: about 130 KB
and 35 ms per face and document. With the common characters renumbered to ~7,600 glyphs, each
document's copy is a fraction of that. A character outside the set (a rare one in a name) falls
back to the system face through the font-family list, as before.

`font_face_css()` gives the @font-face rules ('' when the faces cannot be made: the documents then
use the system face directly)."""
from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import threading
from functools import lru_cache
from pathlib import Path

log = logging.getLogger("credflow.documents")

FAMILY = "Noto Serif CJK SC Common"
SOURCES = {"normal": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
           "bold": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"}
CHARSET_VERSION = "gb2312-1"
_lock = threading.Lock()

_NO_HINTING, _NOTDEF_OUTLINE = 0x1, 0x40


def common_characters() -> list[int]:
    """GB 2312 (6,763 hanzi and its symbols), ASCII and Latin-1, general punctuation, CJK symbols
    and full-width forms."""
    codes = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2000, 0x2070)) \
        | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0)) | {0x2116, 0x2160, 0x2460, 0x25CB, 0x25CF, 0x2605}
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                codes.add(ord(bytes((high, low)).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return sorted(codes)


def cache_folder() -> Path:
    """Derived from the system fonts alone, so one cache serves every instance folder."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "credflow" / "fonts"


@lru_cache(maxsize=1)
def _harfbuzz():
    hb = ctypes.CDLL("libharfbuzz.so.0")
    sub = ctypes.CDLL("libharfbuzz-subset.so.0")
    p, u = ctypes.c_void_p, ctypes.c_uint
    for lib, name, restype, argtypes in (
            (hb, "hb_blob_create_from_file_or_fail", p, [ctypes.c_char_p]),
            (hb, "hb_face_create", p, [p, u]), (hb, "hb_face_reference_blob", p, [p]),
            (hb, "hb_blob_get_data", ctypes.POINTER(ctypes.c_char), [p, ctypes.POINTER(u)]),
            (hb, "hb_set_add", None, [p, u]), (hb, "hb_blob_destroy", None, [p]), (hb, "hb_face_destroy", None, [p]),
            (sub, "hb_subset_input_create_or_fail", p, []), (sub, "hb_subset_input_unicode_set", p, [p]),
            (sub, "hb_subset_input_set_flags", None, [p, u]), (sub, "hb_subset_or_fail", p, [p, p]),
            (sub, "hb_subset_input_destroy", None, [p])):
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return hb, sub


def _sc_index(path: str) -> int:
    from .seal import face_index
    return face_index(path)


def _subset(source: str, index: int, codes: list[int]) -> bytes:
    hb, sub = _harfbuzz()
    blob = hb.hb_blob_create_from_file_or_fail(source.encode())
    if not blob:
        raise FileNotFoundError(source)
    face = hb.hb_face_create(blob, index)
    plan = sub.hb_subset_input_create_or_fail()
    result = blob_out = None
    try:
        unicodes = sub.hb_subset_input_unicode_set(plan)
        for code in codes:
            hb.hb_set_add(unicodes, code)
        sub.hb_subset_input_set_flags(plan, _NO_HINTING | _NOTDEF_OUTLINE)
        result = sub.hb_subset_or_fail(face, plan)
        if not result:
            raise RuntimeError(f"HarfBuzz could not subset {source}")
        blob_out = hb.hb_face_reference_blob(result)
        length = ctypes.c_uint()
        data = hb.hb_blob_get_data(blob_out, ctypes.byref(length))
        return ctypes.string_at(data, length.value)
    finally:
        if blob_out:
            hb.hb_blob_destroy(blob_out)
        if result:
            hb.hb_face_destroy(result)
        sub.hb_subset_input_destroy(plan)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)


def _made(weight: str, source: str) -> Path:
    stat = os.stat(source)
    key = f"{source}:{stat.st_size}:{int(stat.st_mtime)}:{CHARSET_VERSION}"
    target = cache_folder() / f"noto-serif-cjk-sc-common-{weight}-{hashlib.sha1(key.encode()).hexdigest()[:12]}.otf"
    if not target.exists():
        data = _subset(source, _sc_index(source), common_characters())
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".part-{os.getpid()}-{threading.get_ident()}")
        tmp.write_bytes(data)
        tmp.replace(target)
    return target


@lru_cache(maxsize=1)
def _faces() -> tuple[tuple[str, Path], ...]:
    try:
        return tuple((weight, _made(weight, source)) for weight, source in SOURCES.items())
    except Exception:  # noqa: BLE001 -- the system face still works, only slower and larger
        log.warning("could not make the documents' common-character fonts; using the system fonts", exc_info=True)
        return ()


def font_face_css() -> str:
    """@font-face rules for FAMILY ('' without the faces)."""
    with _lock:
        faces = _faces()
    return "\n".join(f'@font-face {{ font-family: "{FAMILY}"; src: url("{path.as_uri()}"); font-weight: {weight}; }}'
                     for weight, path in faces)
