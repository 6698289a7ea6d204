"""Attribute reads in diagram code (`obj.name`, compiled into `_getattr_(obj, 'name')`).

RestrictedPython's safer_getattr refuses private names and str.format; on top, the methods that
can build a large object in one C call ('x'.ljust(10**9), s.split(), l.extend(...)) come back
wrapped: the result's size is estimated from the arguments and refused before the call.
"""
from __future__ import annotations

from RestrictedPython.Guards import safer_getattr

from . import limits as L
from .guards import GuardedType, collect, traced
from .limits import SandboxError, check_items, check_text
from .sizes import line_pieces, whitespace_pieces

TEXT, ITEMS = check_text, check_items
_MISSING = object()
_UNBOUND = object()   # the receiver is the first argument: str.upper(s)


def _join_size(sep, items):
    try:
        return len(sep) * max(len(items) - 1, 0) + sum(map(len, items))
    except TypeError:
        return 0  # join() itself refuses items that are not strings


def _replace_size(s, old, new, count=-1):
    found = s.count(old) if old else len(s) + 1
    return len(s) + max(len(new) - len(old), 0) * (found if count < 0 else min(found, count))


def _translate_size(s, table):
    if not isinstance(table, dict):
        return len(s)
    return len(s) * max([1] + [len(v) for v in table.values() if isinstance(v, str)])


def _encode_size(s, encoding='utf-8', errors='strict'):
    name = str(encoding).lower().replace('_', '-')
    if s.isascii() and name in ('utf-8', 'utf8', 'ascii', 'latin-1', 'latin1'):
        return len(s)
    return len(s) * (4 if name in ('utf-8', 'utf8') else 10)


def _split_pieces(s, sep=None, maxsplit=-1):
    if sep is None:
        pieces = whitespace_pieces(s, L.MAX_ITEMS)
    else:
        pieces = s.count(sep) + 1 if sep else 1
    return pieces if maxsplit is None or maxsplit < 0 else min(pieces, maxsplit + 1)


def _case_size(s):   # 'ß'.upper() == 'SS'; no character maps to more than three
    return len(s) if s.isascii() else 3 * len(s)


def _added(container, *others, **kwargs):
    return len(container) + sum(len(o) for o in others) + len(kwargs)


_WIDTH = (lambda s, width, *_: width, TEXT)
_TEXT_TYPES = (str, bytes, bytearray)
# name: (receiving types, size of the result from (receiver, *args), limit, arguments collected)
# A size of 0 only wraps the method, so that a C loop calling it (map(l.append, l)) is traced.
_METHODS = {
    'ljust': (_TEXT_TYPES,) + _WIDTH, 'rjust': (_TEXT_TYPES,) + _WIDTH,
    'center': (_TEXT_TYPES,) + _WIDTH, 'zfill': (_TEXT_TYPES,) + _WIDTH,
    'expandtabs': (_TEXT_TYPES, lambda s, tabsize=8: len(s) + tabsize * s.count(
        '\t' if isinstance(s, str) else b'\t'), TEXT),
    'replace': (_TEXT_TYPES, _replace_size, TEXT),
    'join': (_TEXT_TYPES, _join_size, TEXT, 1),
    'translate': (_TEXT_TYPES, _translate_size, TEXT),
    'encode': ((str,), _encode_size, TEXT),
    'hex': ((bytes, bytearray), lambda b, *_: 3 * len(b), TEXT),
    'to_bytes': ((int,), lambda n, length=1, *_, **__: length, TEXT),
    'split': (_TEXT_TYPES, _split_pieces, ITEMS), 'rsplit': (_TEXT_TYPES, _split_pieces, ITEMS),
    'splitlines': (_TEXT_TYPES, lambda s, *_: line_pieces(s), ITEMS),
    'extend': ((list,), _added, ITEMS, 1),
    'append': ((list,), lambda *_: 0, ITEMS), 'insert': ((list,), lambda *_: 0, ITEMS),
    'sort': ((list,), lambda *_, **__: 0, ITEMS),
    'update': ((dict, set), _added, ITEMS, 9),
    'union': ((set, frozenset), _added, ITEMS, 9),
    'symmetric_difference': ((set, frozenset), _added, ITEMS, 9),
    'symmetric_difference_update': ((set,), _added, ITEMS, 9),
}
for _name in ('upper', 'lower', 'title', 'capitalize', 'swapcase', 'casefold'):
    _METHODS[_name] = ((str,), _case_size, TEXT)
# called on the type: dict.fromkeys(keys), str.maketrans(x, y, z)
_CLASS_METHODS = {
    'fromkeys': ((dict,), lambda keys, value=None: len(keys), ITEMS, 1),
    'maketrans': ((str,), lambda x, y=None, z=None: len(x) + len(z or ''), ITEMS),
}


def getattr_(obj, name):
    if isinstance(obj, GuardedType):
        obj = obj._real
    # safer_getattr's default would turn a misspelt attribute into None: raise instead.
    try:
        value = safer_getattr(obj, name, _MISSING)
    except NotImplementedError as exc:  # str.format / format_map
        raise SandboxError(f'{exc} (use an f-string)') from None
    if value is _MISSING:
        raise AttributeError(f'{type(obj).__name__!r} object has no attribute {name!r}')
    method = _METHODS.get(name)
    if method is not None:
        if isinstance(obj, type):
            if issubclass(obj, method[0]):   # str.upper: its first argument is the receiver
                return _checked(value, _UNBOUND, name, *method[1:])
        elif isinstance(obj, method[0]):
            return _checked(value, obj, name, *method[1:])
    method = _CLASS_METHODS.get(name)
    if method is not None and (obj if isinstance(obj, type) else type(obj)) in method[0]:
        return _checked(value, _UNBOUND, name, *method[1:])
    return value


def _checked(method, receiver, name, size, check, collected=0):
    what = f'{name}()'
    first = 1 if receiver is _UNBOUND and not hasattr(method, '__self__') else 0   # str.join(sep, items)

    def call(*args, **kwargs):
        if collected:
            args = tuple(collect(a, what) if first <= i < first + collected else a for i, a in enumerate(args))
        check(size(*args, **kwargs) if receiver is _UNBOUND else size(receiver, *args, **kwargs), what)
        if kwargs.get('key') is not None:
            kwargs['key'] = traced(kwargs['key'])
        return method(*args, **kwargs)
    return call


def hasattr_(obj, name):
    try:
        getattr_(obj, name)
    except AttributeError:
        return False
    return True


def apply(func, *args, **kwargs):
    return func(*args, **kwargs)


class Print:
    """print() in diagram code: output is discarded, writing to a file is refused."""

    def __init__(self, _getattr_=None):
        pass

    def _call_print(self, *objects, **kwargs):
        if kwargs.get('file') is not None:
            raise SandboxError('print(file=...) is not allowed')

    def __call__(self):
        return ''
