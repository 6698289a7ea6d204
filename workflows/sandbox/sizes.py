"""Cheap upper bounds of how large a value becomes as text, computed before building the text.

`text_size(value, limit)` walks containers without building anything and stops as soon as the
bound passes `limit`: str() of a list holding one 1 MB string 100,000 times is refused after
looking at two elements, not after building 100 GB. Shared elements are counted each time they
occur (repr repeats them); a container inside itself counts as '[...]', as repr shows it.
"""
from __future__ import annotations

STR, REPR, ASCII = 0, 1, 2     # how the outermost value is turned into text (elements: repr/ascii)
_EXACT_BELOW = 100_000         # non-printable strings shorter than this are measured exactly
_OTHER = 200                   # functions, ranges, dates ...: a short fixed-form repr
_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))
_CONTAINERS = (list, tuple, set, frozenset, dict) + _VIEWS
_CONTAINER_TYPES = frozenset(_CONTAINERS)
_LEAVE = object()
# Unicode whitespace and line breaks (str.split() / splitlines() cut at these), to delete.
_WHITESPACE = dict.fromkeys(map(ord, '\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003'
                                     '\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'))
_LINE_BREAKS = dict.fromkeys(map(ord, '\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029'))


def _str_size(s: str, mode: int) -> int:
    if mode == STR:
        return len(s)
    if mode == ASCII and not s.isascii():
        return 10 * len(s) + 2 if len(s) >= _EXACT_BELOW else len(ascii(s))
    if s.isprintable():
        return len(s) + 2 + s.count('\\') + s.count("'")
    return 10 * len(s) + 2 if len(s) >= _EXACT_BELOW else len(repr(s))


def _leaf_size(value, mode: int) -> int | None:
    """Size of a value that is not a container, or None for a container."""
    kind = type(value)
    if kind is str:
        return _str_size(value, mode)
    if kind is bool:
        return 5
    if kind is int:
        return int(value.bit_length() * 0.30103) + 3
    if kind is float:
        return 24
    if value is None:
        return 4
    if isinstance(value, _CONTAINERS):
        return None
    if isinstance(value, (bytes, bytearray)):
        return 4 * len(value) + 14
    if isinstance(value, str):       # a str subclass
        return _str_size(str(value), mode)
    if isinstance(value, int):
        return int(value.bit_length() * 0.30103) + 3
    if isinstance(value, BaseException):
        return None
    return _OTHER


def text_size(value, limit: int, mode: int = STR) -> int:
    """An upper bound of len(str(value)) (REPR: repr, ASCII: ascii); once past `limit`, some
    number above it."""
    if value.__class__ not in _CONTAINER_TYPES:
        size = _leaf_size(value, mode)
        if size is not None:
            return size
    total, todo, open_ids = 0, [value], set()
    element_mode = ASCII if mode == ASCII else REPR
    while todo:
        if total > limit:
            return total
        item = todo.pop()
        kind = item.__class__
        # the common elements inline: each function call here is also a call the tracer sees
        if kind is int:
            total += int(item.bit_length() * 0.30103) + 3
            continue
        if kind is str and element_mode == REPR and item.isprintable():
            total += len(item) + 2 + item.count('\\') + item.count("'")
            continue
        if item is _LEAVE:
            open_ids.discard(todo.pop())
            continue
        if kind not in _CONTAINER_TYPES:
            size = _leaf_size(item, element_mode)
            if size is not None:
                total += size
                continue
        if id(item) in open_ids:
            total += 5                          # [...]
            continue
        open_ids.add(id(item))
        todo += (id(item), _LEAVE)
        if kind is list or kind is tuple:
            total += 2 + 2 * len(item)
            if total <= limit:
                todo += item
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total <= limit:
                todo += item.keys()
                todo += item.values()
        elif isinstance(item, BaseException):
            total += len(type(item).__name__) + 2
            todo.append(item.args)
        else:   # set, frozenset({...}), dict_keys([...]), a list or tuple subclass
            total += 18 + 2 * len(item)
            if isinstance(item, _VIEWS[2]):
                total += 4 * len(item)      # the (key, value) pairs
                if total <= limit:
                    for pair in item:
                        todo += pair
            elif total <= limit:
                todo += item
    return total


def whitespace_pieces(s, enough: int) -> int:
    """An upper bound of len(s.split()): half the length, or where that is more than `enough`,
    one more than the number of whitespace characters."""
    if (len(s) + 1) // 2 <= enough:
        return (len(s) + 1) // 2
    if isinstance(s, str):
        return len(s) - len(s.translate(_WHITESPACE)) + 1
    return len(s) - len(bytes(s).translate(None, b' \t\n\r\x0b\x0c')) + 1


def line_pieces(s) -> int:
    """An upper bound of len(s.splitlines())."""
    if isinstance(s, str):
        return len(s) - len(s.translate(_LINE_BREAKS)) + 1
    return s.count(b'\n') + s.count(b'\r') + 1
