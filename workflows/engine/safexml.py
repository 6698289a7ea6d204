"""BPMN and DMN files parsed safely: UTF-8 only, no DOCTYPE (so no entities, no external DTD, no
entity bombs), no network, and the root checked to be the expected <definitions>."""
from __future__ import annotations

import codecs
import re

from lxml import etree

from ..messages import Message, N_
from .problems import InvalidBundle, Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_SAFE_PARSER_ARGS = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                         huge_tree=False)
_PROLOG_ITEM = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)
DOCTYPE_REASON = N_("BPMN 和 DMN 文件中不允许 DOCTYPE（DTD、实体声明）")
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/", "http://www.omg.org/spec/DMN/")


def _has_doctype(raw: bytes) -> bool:
    pos = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    while (m := _PROLOG_ITEM.match(raw, pos)) and m.end() > pos:
        pos = m.end()
    return raw[pos:].lstrip()[:9].upper() == b"<!DOCTYPE"


def decode_utf8(name: str, data: bytes) -> str:
    """The text of an uploaded or on-disk BPMN/DMN file, which must be UTF-8."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InvalidBundle([Problem(name, "", N_("文件是 UTF-16 编码，请另存为 UTF-8"))])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InvalidBundle([Problem(name, "", Message(N_("文件不是 UTF-8 编码（第 %(line)s 行的字节 0x%(byte)s），请另存为 UTF-8"),
                                                       line=line, byte=f"{data[exc.start]:02x}"), line=line)]) from None


def parse_xml(name: str, text: str | bytes, root_namespace: str | None = None):
    """Parse one BPMN/DMN file safely; with `root_namespace` (BPMN_NS, or "dmn" for any DMN
    version) its root must be that namespace's <definitions>. Raises InvalidBundle naming the file."""
    if isinstance(text, str):
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidBundle([Problem(name, "", Message(N_("文本不是有效的 UTF-8（第 %(position)s 个字符：%(detail)s）"),
                                                           position=exc.start, detail=exc.reason))]) from None
    else:
        raw = text
    if _has_doctype(raw):
        raise InvalidBundle([Problem(name, "", DOCTYPE_REASON)])
    declared = re.match(rb"(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']+)", raw)
    if declared and declared.group(1).decode("ascii", "replace").lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise InvalidBundle([Problem(name, "", Message(N_("XML 声明的编码为 %(encoding)s，不是 UTF-8"),
                                                       encoding=declared.group(1).decode("ascii", "replace")))])
    try:
        root = etree.fromstring(raw, etree.XMLParser(**_SAFE_PARSER_ARGS))
    except etree.XMLSyntaxError as exc:
        raise InvalidBundle([Problem(name, "", Message(N_("XML 格式错误：%(detail)s"), detail=str(exc)),
                                     line=exc.lineno or 0)]) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InvalidBundle([Problem(name, "", DOCTYPE_REASON)])
    if root_namespace is not None:
        qname = etree.QName(root)
        expected_ns = (qname.namespace or "").startswith(DMN_NAMESPACES) if root_namespace == "dmn" \
            else qname.namespace == root_namespace
        if qname.localname != "definitions" or not expected_ns:
            kind = "DMN" if root_namespace == "dmn" else f"BPMN ({BPMN_NS})"
            raise InvalidBundle([Problem(name, "", Message(
                N_("根元素是命名空间 '%(namespace)s' 中的 <%(root)s>，不是 %(kind)s 的 <definitions>"),
                root=qname.localname, namespace=qname.namespace or "", kind=kind))])
    return root
