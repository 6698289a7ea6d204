"""Every list page's two tools: the same list as .xlsx (`?format=xlsx`, with the filters on
screen: workflows/sheet_export.py writes it) and printing (the print stylesheet in credflow.css).

A list route calls `wants_xlsx()`; if true, it builds every row its filters select (not only the
page shown) and returns `xlsx_download(...)`. The template calls the macro in
templates/_list_tools.html, which links here with the page's own query string."""
from __future__ import annotations

import io
from itertools import islice
from typing import Iterable, Iterator, Sequence

from flask import request, send_file
from flask_babel import gettext as _

from workflows.clock import CST
from workflows.sheet_export import MAX_ROWS, list_xlsx

from .context import clock

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wants_xlsx() -> bool:
    return request.args.get("format") == "xlsx"


def xlsx_download(name: str, title: str, headers: Sequence[str], rows: Iterable[Sequence],
                  filters: Sequence[tuple[str, str]] = ()):
    """`name` is the file's stem in ASCII (`records`); the download is `credflow-records-YYYYMMDD.xlsx`."""
    data = list_xlsx(title, headers, rows, [(label, value) for label, value in filters if value not in (None, "")],
                     cut_note=_("……仅导出前 %(count)s 行，请缩小筛选范围。", count=f"{MAX_ROWS:,}"))
    stamp = clock().now().astimezone(CST).strftime("%Y%m%d")
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=f"credflow-{name}-{stamp}.xlsx")


def in_batches(items: Iterable, size: int = 1000) -> Iterator[list]:
    """A long list in chunks, so a sheet looks up the names its rows show (people, departments)
    once per chunk, not once per row, and never holds the whole list."""
    items = iter(items)
    while chunk := list(islice(items, size)):
        yield chunk


def print_time() -> str:
    """When a list was printed (the printed heading of templates/_list_tools.html), Beijing time."""
    return clock().now().astimezone(CST).strftime("%Y-%m-%d %H:%M")


def remembered(fn):
    """`fn` (say `label`) remembered per argument for one export: a long list names the same few
    codes over and over, and each call asks the request for its translations."""
    memo = {}

    def once(*args):
        if args not in memo:
            memo[args] = fn(*args)
        return memo[args]
    return once
