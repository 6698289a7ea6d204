"""The bounded sheet reader both imports use: hostile .xlsx files (a huge declared dimension, zip
bombs, billion laughs, external entities, damaged archives) and over-long .csv files each end in a
clear error (a catalog message, Chinese by default), and a huge declared dimension is read as the few rows it really has."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import Workbook

from workflows import sheet_reader
from workflows.sheet_reader import SheetError, SheetLimits, read_sheet

from in_english import english

LIMITS = SheetLimits(max_rows=50, max_columns=5)


def xlsx(*rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewritten(data: bytes, part: str, change) -> bytes:
    """The same workbook with one part's XML changed (or added, when `part` is new)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info.filename, change(body.decode()).encode() if info.filename == part else body)
    return out.getvalue()


def huge_dimension(far_cell: bool = False) -> bytes:
    """The attack sheet: 4-5 KB declaring A1:XFD1048576 (optionally with a cell in its far corner)."""
    def change(xml):
        xml = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', xml)
        if far_cell:
            xml = xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is>'
                                              '</c></row></sheetData>')
        return xml
    return rewritten(xlsx(("name", "post"), ("甲某", "principal")), "xl/worksheets/sheet1.xml", change)


BILLION_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)) + "]>")
EXTERNAL_ENTITY = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def with_dtd(dtd: str, reference: str, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    def change(xml):
        xml = dtd + xml
        return xml.replace("<t>x</t>", f"<t>{reference}</t>")
    return rewritten(xlsx(("name", "post"), ("x", "y")), part, change)


@pytest.fixture
def rows_pulled(monkeypatch):
    """How many rows the reader pulled out of openpyxl (and how wide the widest was)."""
    seen = {"rows": 0, "widest": 0}
    original = sheet_reader._xlsx_rows

    def counting(data, limits):
        for row in original(data, limits):
            seen["rows"] += 1
            seen["widest"] = max(seen["widest"], len(row))
            yield row
    monkeypatch.setattr(sheet_reader, "_xlsx_rows", counting)
    return seen


def test_a_huge_declared_dimension_is_read_as_the_rows_that_are_there(rows_pulled):
    data = huge_dimension()
    assert len(data) < 6000
    sheet = read_sheet("名册.xlsx", data, LIMITS)
    assert sheet.header == ["name", "post"]
    assert [(n, v[:2]) for n, v in sheet.rows] == [(2, ("甲某", "principal"))]
    # the old reader padded every row to 16,384 columns and the sheet to 1,048,576 rows
    assert rows_pulled == {"rows": 2, "widest": 2}


def test_a_cell_in_the_far_corner_stops_the_reading_at_the_bound(rows_pulled):
    with pytest.raises(SheetError, match=r"表格在第 \d+ 行之后仍有内容"):
        read_sheet("名册.xlsx", huge_dimension(far_cell=True), LIMITS)
    assert rows_pulled["rows"] <= LIMITS.max_rows + 1 + sheet_reader.BLANK_ROWS_ALLOWED + 1
    assert rows_pulled["widest"] <= 16384


def test_too_many_rows_and_columns_are_each_named():
    many = xlsx(("a", "b"), *[(f"r{i}", i) for i in range(LIMITS.max_rows + 1)])
    with pytest.raises(SheetError, match=f"表格超过 {LIMITS.max_rows} 行"):
        read_sheet("a.xlsx", many, LIMITS)
    wide = xlsx(("a", "b"), ("x", "y", None, None, None, None, "far"))
    with pytest.raises(SheetError, match=f"第 2 行超过 {LIMITS.max_columns} 列"):
        read_sheet("a.xlsx", wide, LIMITS)


def test_blank_rows_are_skipped_and_rows_keep_the_numbers_the_sheet_shows():
    sheet = read_sheet("a.xlsx", xlsx(("a", "b"), ("x", 1), (None, None), ("  ", None), ("z", 3)), LIMITS)
    assert [(n, v[:2]) for n, v in sheet.rows] == [(2, ("x", 1)), (5, ("z", 3))]


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    def padded(size):
        return rewritten(xlsx(("a",), ("x",)), "xl/worksheets/sheet1.xml",
                         lambda xml: xml.replace("</worksheet>", "<!--" + "0" * size + "--></worksheet>"))
    huge = padded(30 * 1024 * 1024)
    assert len(huge) < 100 * 1024
    with pytest.raises(SheetError, match="文件解压后超过 20 MB"):
        read_sheet("a.xlsx", huge, LIMITS)
    with pytest.raises(SheetError, match="压缩比异常.*压缩炸弹"):
        read_sheet("a.xlsx", padded(5 * 1024 * 1024), LIMITS)


def test_an_archive_of_too_many_parts_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(sheet_reader.MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"part{i}.xml", "<a/>")
    with pytest.raises(SheetError, match=f"超过 {sheet_reader.MAX_ZIP_MEMBERS} 个"):
        read_sheet("a.xlsx", out.getvalue(), LIMITS)


@pytest.mark.parametrize("dtd, reference", [(BILLION_LAUGHS, "&lol9;"), (EXTERNAL_ENTITY, "&xxe;")],
                         ids=["billion-laughs", "external-entity"])
@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"])
def test_xml_entities_are_refused_in_every_part(dtd, reference, part):
    with pytest.raises(SheetError, match="文件含有 XML 实体声明"):
        read_sheet("a.xlsx", with_dtd(dtd, reference, part), LIMITS)


@pytest.mark.parametrize("dtd, reference", [(BILLION_LAUGHS, "&lol9;"), (EXTERNAL_ENTITY, "&xxe;")],
                         ids=["billion-laughs", "external-entity"])
def test_openpyxl_itself_parses_the_sheet_with_defusedxml(dtd, reference):
    """Behind the reader's own check: openpyxl uses defusedxml (installed) and refuses the entity."""
    import openpyxl
    from defusedxml import DefusedXmlException
    from openpyxl import load_workbook
    assert openpyxl.DEFUSEDXML is True
    with pytest.raises(Exception) as info:
        book = load_workbook(io.BytesIO(with_dtd(dtd, reference)), read_only=True)
        list(book.active.iter_rows(values_only=True))
    chain, exc = [], info.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    assert any(isinstance(e, DefusedXmlException) for e in chain), chain
    assert sheet_reader._is_defused(info.value)


@pytest.mark.parametrize("data", [
    b"\x00garbage that is no spreadsheet",
    b"PK\x03\x04 not really a zip",
    xlsx(("a",), ("x",))[:2000],                       # cut short
    rewritten(xlsx(("a",), ("x",)), "xl/worksheets/sheet1.xml", lambda xml: xml[:-40]),   # broken XML
], ids=["garbage", "fake-zip", "truncated", "broken-xml"])
def test_a_malformed_xlsx_is_a_clear_error(data):
    with pytest.raises(SheetError, match=r"文件不是有效的 \.xlsx 表格"):
        read_sheet("a.xlsx", data, LIMITS)


def test_a_file_over_the_size_bound_is_refused_unread():
    with pytest.raises(SheetError, match="文件超过 1 KB"):
        read_sheet("a.csv", b"a,b\n" + b"x,y\n" * 300, SheetLimits(max_rows=1000, max_bytes=1024))


def csv_bytes(*rows, encoding="utf-8") -> bytes:
    return "".join(",".join(map(str, row)) + "\r\n" for row in rows).encode(encoding)


def test_csv_is_bounded_the_same_way():
    with pytest.raises(SheetError, match=f"表格超过 {LIMITS.max_rows} 行"):
        read_sheet("a.csv", csv_bytes(("a", "b"), *[(i, i) for i in range(LIMITS.max_rows + 1)]), LIMITS)
    with pytest.raises(SheetError, match=f"第 3 行超过 {LIMITS.max_columns} 列"):
        read_sheet("a.csv", csv_bytes(("a", "b"), ("x", "y"), ("x",) * 9), LIMITS)
    with pytest.raises(SheetError, match=f"第 2 行有单元格超过 {sheet_reader.MAX_CELL_CHARS} 字"):
        read_sheet("a.csv", csv_bytes(("a", "b"), ("x" * (sheet_reader.MAX_CELL_CHARS + 1), "y")), LIMITS)
    with pytest.raises(SheetError, match=r"第 2 行不是有效的 \.csv"):
        read_sheet("a.csv", b'a,b\n"' + b"x" * 200_000 + b'",y\n', SheetLimits(max_rows=5, max_bytes=300_000))


def test_csv_past_the_blank_row_allowance_is_named():
    blanks = b"\r\n" * (LIMITS.max_rows + sheet_reader.BLANK_ROWS_ALLOWED)
    rows = csv_bytes(("a", "b"), ("x", "y")) + blanks + b"z,w\r\n"
    with pytest.raises(SheetError, match="表格在第 .* 行之后仍有内容"):
        read_sheet("a.csv", rows, LIMITS)


def test_csv_in_utf8_or_gbk_reads_and_anything_else_is_a_clear_error():
    for encoding in ("utf-8-sig", "gb18030"):
        sheet = read_sheet("a.csv", csv_bytes(("姓名", "职务"), ("甲某", "局长"), encoding=encoding), LIMITS)
        assert (sheet.header, sheet.rows) == (["姓名", "职务"], [(2, ("甲某", "局长"))])
    with pytest.raises(SheetError, match=r"文件不是有效的 \.csv"):
        read_sheet("a.csv", b"a,b\n\x81\x30\xff\xfe,y\n", LIMITS)
    with pytest.raises(SheetError, match=r"文件不是有效的 \.csv（含有 NUL 字符）"):
        read_sheet("a.csv", b"a,b\nx\x00,y\n", LIMITS)


def test_an_empty_sheet_says_so():
    with pytest.raises(SheetError, match="表格是空的") as empty:
        read_sheet("a.xlsx", xlsx(), LIMITS)
    with pytest.raises(SheetError, match="表格是空的"):
        read_sheet("a.csv", b"\r\n,,\r\n", LIMITS)
    assert english(empty.value) == "the sheet is empty"   # and an English page says it in English
