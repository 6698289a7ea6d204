"""The one list of names diagram code may use: BUILTINS is what scripts see at run time, and
REFUSED (every other Python builtin) is what the deploy check refuses, derived from it. So a
name passes deploy exactly when it works at run time (or is task data or a helper)."""
from __future__ import annotations

import builtins

from RestrictedPython import safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard

from . import guards as g
from .methods import Print, apply, getattr_, hasattr_

# from RestrictedPython's safe builtins: not these
_DROPPED = ('__build_class__', 'setattr', 'delattr', '_getattr_', 'BaseException', 'SystemExit',
            'KeyboardInterrupt', 'GeneratorExit',
            'id', 'hash')   # an address, and a hash that differs between processes
# from Python's builtins, as they are
_PLAIN = ('len', 'abs', 'any', 'all', 'enumerate', 'zip', 'int', 'float', 'bool', 'isinstance', 'reversed')
# builtins that can build large things or run C loops, each through its guard
_GUARDED = {
    'str': g.guarded_type(str, g.str_), 'list': g.guarded_type(list, g.list_),
    'tuple': g.guarded_type(tuple, g.tuple_), 'set': g.guarded_type(set, g.set_),
    'frozenset': g.guarded_type(frozenset, g.frozenset_), 'dict': g.guarded_type(dict, g.dict_),
    'map': g.guarded_type(map, g.map_), 'filter': g.guarded_type(filter, g.filter_),
    'range': g.guarded_type(range, g.range_),
    'repr': g.repr_, 'ascii': g.ascii_, 'format': g.format_, 'sorted': g.sorted_, 'min': g.min_,
    'max': g.max_, 'sum': g.sum_, 'pow': g.pow_, 'divmod': g.divmod_, 'round': g.round_,
    'hasattr': hasattr_, 'RecursionError': RecursionError,
}

BUILTINS = {name: value for name, value in safe_builtins.items() if name not in _DROPPED}
BUILTINS.update({name: getattr(builtins, name) for name in _PLAIN})
BUILTINS.update(_GUARDED)

# print() is rewritten by RestrictedPython into the _print_ guard below.
AVAILABLE = frozenset(BUILTINS) | {'print'}
REFUSED = frozenset(name for name in dir(builtins) if not name.startswith('_')) - AVAILABLE

GUARDS = {
    '__builtins__': BUILTINS, '_getattr_': getattr_, '_getitem_': default_guarded_getitem,
    '_getiter_': default_guarded_getiter, '_iter_unpack_sequence_': g.iter_unpack_sequence,
    '_unpack_sequence_': g.unpack_sequence, '_write_': full_write_guard,
    '_inplacevar_': g.inplacevar, '_binop_': g.binop, '_fstring_': g.fstring, '_starred_': g.starred,
    '_apply_': apply, '_print_': Print, '_print': Print(),
}
