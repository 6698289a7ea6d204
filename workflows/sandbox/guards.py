"""Run-time guards: each operation of diagram code that could build a huge object in one C call
is size-checked before it runs, and callables handed to C loops (map, sorted's key ...) are
wrapped so that every call passes the time and memory checks.

The compile-time policy (source.py) turns `a * b`, f-strings, `*args`, attribute reads ... into
calls of these functions; names.py installs the guarded builtins (str, list, format ...).
"""
from __future__ import annotations

import operator
import re
import types
from itertools import islice

from ..messages import N_
from . import limits as L
from .limits import SandboxError, TooLarge, check_items, check_text, too_large
from .sizes import ASCII, REPR, STR, text_size

_TEXTS = (str, bytes, bytearray)
_SEQUENCES = _TEXTS + (list, tuple)
_SIZED = _SEQUENCES + (dict, set, frozenset, range, type({}.keys()), type({}.values()), type({}.items()))


class GuardedType(type):
    """A builtin type whose calls go through a guard; isinstance() and issubclass() see the real
    type, and attribute reads (str.maketrans) reach it through the attribute guard."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._real)

    def __subclasscheck__(cls, sub):
        return issubclass(sub._real if isinstance(sub, GuardedType) else sub, cls._real)

    def __repr__(cls):
        return repr(cls._real)


def guarded_type(real: type, guard) -> GuardedType:
    # The guard is the metaclass's __call__ itself: one Python call, not two, per str(x).
    meta = type(f'Guarded_{real.__name__}', (GuardedType,), {'__call__': staticmethod(guard)})
    return meta(real.__name__, (), {'_real': real, '__slots__': ()})


# ---------------------------------------------------------------- sizes of what is collected

def collect(iterable, what: str):
    """`iterable` itself when it has a length within MAX_ITEMS, else its items (at most
    MAX_ITEMS of them): what a C function consuming it (list(), join, *args ...) may take."""
    if isinstance(iterable, _SIZED):
        check_items(len(iterable), what)
        return iterable
    items = list(islice(iterable, L.MAX_ITEMS + 1))
    if len(items) > L.MAX_ITEMS:
        raise TooLarge(N_('结果过大：%(what)s 将超过 %(limit)s 项'), what=what, limit=f'{L.MAX_ITEMS:,}')
    return items


def traced(func):
    """`func`, or a Python function calling it: C loops (map, sorted) calling a C function
    (str.upper, list) run no Python code, so nothing could stop them; a Python function's every
    call passes the sandbox's time and memory checks."""
    if func is None or isinstance(func, (types.FunctionType, GuardedType)):
        return func

    def call(*args, **kwargs):
        return func(*args, **kwargs)
    return call


# ---------------------------------------------------------------- operators

_OPS = {'+': operator.add, '*': operator.mul, '**': operator.pow, '<<': operator.lshift,
        '%': operator.mod, '//': operator.floordiv}
_INPLACE = {op + '=': getattr(operator, 'i' + fn.__name__) for op, fn in _OPS.items()}
_INPLACE.update({'-=': operator.isub, '/=': operator.itruediv, '>>=': operator.irshift,
                 '&=': operator.iand, '|=': operator.ior, '^=': operator.ixor, '@=': operator.imatmul})
_PERCENT_SPEC = re.compile(r'%(?:\(([^)]*)\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?(.?)', re.S)
_FLOAT_DIGITS = 320   # '%f' % 1e308


def _check_length(example, size: int, what: str) -> None:
    (check_text if isinstance(example, _TEXTS) else check_items)(size, what)


def _number(digits: str) -> int:
    return int(digits) if len(digits) < 10 else 10 ** 10


def percent_size(fmt, args) -> int:
    """An upper bound of len(fmt % args)."""
    text = fmt.decode('latin-1') if isinstance(fmt, (bytes, bytearray)) else fmt
    total, position = len(text), 0
    for key, width, precision, conversion in _PERCENT_SPEC.findall(text):
        if '*' in (width, precision):
            raise SandboxError("'*' widths are not allowed in % formatting")
        total += _number(width or '0') + _number(precision or '0')
        if conversion == '%':
            continue
        if key and isinstance(args, dict):
            value = args.get(key)
        elif isinstance(args, tuple):
            value = args[position] if position < len(args) else None
            position += 1
        else:
            value, args = args, None
        total += text_size(value, L.MAX_TEXT, ASCII if conversion == 'a' else REPR)
        if isinstance(value, int) and conversion in 'oxX':
            total += value.bit_length() // 3
        elif isinstance(value, float):
            total += _FLOAT_DIGITS
        if total > L.MAX_TEXT:
            break
    return total


def _int_text(n: int) -> str:
    return str(n) if n.bit_length() <= 64 else f'a {n.bit_length():,}-bit integer'


def check_binop(op: str, a, b) -> None:
    if isinstance(a, int) and isinstance(b, int):
        # Ints above MAX_INT_BITS (e.g. from int(s, 16)) would make // and % quadratic.
        bits = max(a.bit_length(), b.bit_length())
        if op == '*':
            bits = a.bit_length() + b.bit_length()
        elif op == '**' and b > 0 and abs(a) > 1:
            bits = a.bit_length() * b
        elif op == '<<':
            bits = a.bit_length() + b
        if bits > L.MAX_INT_BITS:
            raise too_large(f'{_int_text(a)} {op} {_int_text(b)}', bits, L.MAX_INT_BITS, 'bits')
    elif op == '*' and isinstance(a, _SEQUENCES) and isinstance(b, int):
        _check_length(a, len(a) * b, f'{type(a).__name__} * {b:,}')
    elif op == '*' and isinstance(b, _SEQUENCES) and isinstance(a, int):
        _check_length(b, len(b) * a, f'{a:,} * {type(b).__name__}')
    elif op == '+' and isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _check_length(a, len(a) + len(b), f'{type(a).__name__} + {type(b).__name__}')
    elif op == '%' and isinstance(a, _TEXTS):
        check_text(percent_size(a, b), "'%' formatting")


def binop(op, a, b):
    kind = a.__class__
    if kind is b.__class__ and (kind is float or kind is int and op in _SMALL_INT_OPS
                                and a.bit_length() < 1000 and b.bit_length() < 1000):
        return _OPS[op](a, b)     # the common case, without a second call
    check_binop(op, a, b)
    return _OPS[op](a, b)


_SMALL_INT_OPS = frozenset({'+', '*', '%', '//'})


def inplacevar(op, a, b):
    if op == '+=' and isinstance(a, list) and not isinstance(b, _SEQUENCES):
        b = list(collect(b, 'list +='))  # l += map(f, l) would otherwise grow l forever in one C call
    check_binop(op[:-1], a, b)
    return _INPLACE[op](a, b)


# ---------------------------------------------------------------- text: str(), format(), f-strings

_DIGITS = re.compile(r'\d+')
_NUMBERS = (int, float, bool)   # str() and format() of these are short (ints: see sys.int_info)


def _spec_size(spec) -> int:
    """What a format spec may add: its widths and precisions; a date's strftime codes (%A ...)
    grow at most ten times."""
    if not isinstance(spec, str) or not spec:
        return 0
    numbers = _DIGITS.findall(spec)
    if numbers and max(map(len, numbers)) > 9:
        return 10 ** 10
    return sum(map(int, numbers)) + 10 * len(spec) + 400


def formatted_size(value, spec, mode: int = STR) -> int:
    """An upper bound of len(format(value, spec)) (after str/repr/ascii per `mode`)."""
    size = text_size(value, L.MAX_TEXT, mode)
    return size + size // 3 + _spec_size(spec) if spec else size   # // 3: digit grouping


def str_(*args, **kwargs):
    if len(args) == 1 and not kwargs:
        value = args[0]
        if value.__class__ is str:
            return value
        if value.__class__ not in _NUMBERS:
            check_text(text_size(value, L.MAX_TEXT, STR), 'str() of this value')
    return str(*args, **kwargs)   # str(bytes, encoding): no longer than the bytes


def repr_(value):
    check_text(text_size(value, L.MAX_TEXT, REPR), 'repr() of this value')
    return repr(value)


def ascii_(value):
    check_text(text_size(value, L.MAX_TEXT, ASCII), 'ascii() of this value')
    return ascii(value)


def format_(value, format_spec=''):
    check_text(formatted_size(value, format_spec), 'format() of this value')
    return format(value, format_spec)


_CONVERSIONS = {-1: (STR, None), 115: (STR, str), 114: (REPR, repr), 97: (ASCII, ascii)}


def fstring(layout, *values):
    """An f-string: `layout` holds its literal parts (str) and, for each {value}, a tuple
    (conversion, has format spec) taking its value (and spec) from `values`. A value that is not
    a plain string or number has its size estimated before it is formatted; the whole is never
    more than MAX_TEXT."""
    parts, total, position = [], 0, 0
    for item in layout:
        if item.__class__ is str:
            parts.append(item)
            total += len(item)
            continue
        conversion, has_spec = item
        value, spec = values[position], (values[position + 1] if has_spec else '')
        position += 2 if has_spec else 1
        kind = value.__class__
        if kind is str and conversion == -1 and not spec:
            parts.append(value)
            total += len(value)
        else:
            mode, convert = _CONVERSIONS[conversion]
            if spec:
                total += _spec_size(spec)
            if not (kind in _NUMBERS or kind is str and mode == STR):
                total += text_size(value, L.MAX_TEXT, mode)
            if total > L.MAX_TEXT:
                raise too_large('this f-string', total, L.MAX_TEXT)
            part = format(convert(value) if convert else value, spec)   # a number: short
            parts.append(part)
            total += len(part)
        if total > L.MAX_TEXT:
            raise too_large('this f-string', total, L.MAX_TEXT)
    return ''.join(parts)


# ---------------------------------------------------------------- builtins that build collections

def list_(iterable=()):
    return list(collect(iterable, 'list()'))


def tuple_(iterable=()):
    return tuple(collect(iterable, 'tuple()'))


def set_(iterable=()):
    return set(collect(iterable, 'set()'))


def frozenset_(iterable=()):
    return frozenset(collect(iterable, 'frozenset()'))


def dict_(*args, **kwargs):
    if args:
        args = (collect(args[0], 'dict()'),) + args[1:]
    check_items(len(kwargs), 'dict()')
    return dict(*args, **kwargs)


def sorted_(iterable, /, *, key=None, reverse=False):
    return sorted(collect(iterable, 'sorted()'), key=traced(key), reverse=reverse)


def min_(*args, **kwargs):
    if 'key' in kwargs:
        kwargs['key'] = traced(kwargs['key'])
    return min(*args, **kwargs)


def max_(*args, **kwargs):
    if 'key' in kwargs:
        kwargs['key'] = traced(kwargs['key'])
    return max(*args, **kwargs)


def map_(func, *iterables):
    return map(traced(func), *iterables)


def filter_(func, iterable):
    return filter(traced(func), iterable)


def sum_(items, start=0):
    if not isinstance(start, _SEQUENCES):
        return sum(items, start)
    for item in items:  # each '+' is size-checked (and is a traced call)
        start = binop('+', start, item)
    return start


def range_(*args):
    r = range(*args)
    try:
        size = len(r)
    except OverflowError:
        size = 2 ** 63
    check_items(size, 'range()')
    return r


def pow_(base, exp, mod=None):
    if mod is None:
        return binop('**', base, exp)
    if all(isinstance(n, int) for n in (base, exp, mod)):
        bits = max(base.bit_length(), exp.bit_length(), mod.bit_length())
        if bits > 4096:
            raise too_large('pow() with operands this large', bits, 4096, 'bits')
    return pow(base, exp, mod)


def divmod_(a, b):
    check_binop('//', a, b)
    return divmod(a, b)


def round_(number, ndigits=None):
    if ndigits is None:
        return round(number)
    if abs(ndigits) > 1000:  # round(1, -10**7) computes 10**10**7
        raise too_large('round() to this many digits', abs(ndigits), 1000, 'digits')
    return round(number, ndigits)


def starred(iterable):
    """The value of `*iterable` in a call or a display."""
    return collect(iterable, 'unpacking with *')


def unpack_sequence(it, spec, _getiter_):
    """RestrictedPython's guarded_unpack_sequence (a, (b, c) = ...), taking at most MAX_ITEMS."""
    ret = list(collect(_getiter_(it), 'unpacking'))
    if len(ret) < spec['min_len']:
        return ret
    for idx, child_spec in spec['childs']:
        ret[idx] = unpack_sequence(ret[idx], child_spec, _getiter_)
    return ret


def iter_unpack_sequence(it, spec, _getiter_):
    for ob in _getiter_(it):
        yield unpack_sequence(ob, spec, _getiter_)
