"""Sandboxed evaluation of diagram code.

Managers edit BPMN in the browser, so every script, gateway condition, timer expression,
service-task parameter and DMN cell is untrusted. SandboxEnvironment compiles it with
RestrictedPython, runs it with a small set of builtins and guards, and stops it after a time
limit (sys.settrace with opcode events). Operations that build huge objects in one C call
('a' * 10**10, 10**10**10, range(10**12), ...) are refused before they run.
Not covered: total memory built up by a loop within the time limit; bound it per process.
"""
import ast
import builtins
import functools
import operator
import re
import sys
import time

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (full_write_guard, guarded_iter_unpack_sequence,
                                     guarded_unpack_sequence, safer_getattr)
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment

MAX_ITEMS = 1_000_000    # longest str/bytes/list/tuple that one operation may build
MAX_INT_BITS = 100_000   # biggest int that one operation may build (about 30,000 digits)
MAX_RANGE = 100_000      # longest range()
WALL_FACTOR = 10   # a script's wall time is bounded at this many times its CPU-time limit
FILENAME = '<string>'    # Spiff looks for this file name in tracebacks to report the line


class SandboxError(Exception):
    """Diagram code was refused. Deliberately not a SyntaxError (Spiff's formatter needs lineno)."""


class ScriptTimeout(SandboxError):
    pass


# ---------------------------------------------------------------- compile-time policy

class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: no imports, classes or generators; size-checked
    arithmetic; a deadline check at the top of every except/finally block, because a timeout
    raised from the trace function switches tracing off and could otherwise be caught."""

    def visit_Import(self, node):
        self.error(node, 'import statements are not allowed.')

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, 'class definitions are not allowed.')

    def visit_Yield(self, node):
        self.error(node, 'generator functions (yield) are not allowed.')

    visit_YieldFrom = visit_Yield

    def _call(self, name, old, *args):
        new = ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])
        copy_locations(new, old)
        return new

    def _check_time_stmt(self, old):
        stmt = ast.Expr(self._call('_check_time_', old))
        copy_locations(stmt, old)
        return stmt

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        op = _GUARDED_OPS.get(type(node.op))
        if op is None:
            return node
        return self._call('_binop_', node, ast.Constant(op), node.left, node.right)

    def visit_FormattedValue(self, node):
        node = self.node_contents_visit(node)
        if node.format_spec is not None:  # f'{x:>{n}}' could pad to any width
            checked = self._call('_format_spec_', node.format_spec, node.format_spec)
            node.format_spec = ast.JoinedStr([ast.FormattedValue(checked, -1, None)])
            copy_locations(node.format_spec, checked)
        return node

    def visit_ExceptHandler(self, node):
        kinds = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
        if node.type is not None and not all(isinstance(k, ast.Name) for k in kinds):
            self.error(node, 'except clauses may only name exception classes.')
        node = super().visit_ExceptHandler(node)
        node.body.insert(0, self._check_time_stmt(node))
        return node

    def visit_Try(self, node):
        node = self.node_contents_visit(node)
        if node.finalbody:
            node.finalbody.insert(0, self._check_time_stmt(node))
        return node


_GUARDED_OPS = {ast.Add: '+', ast.Mult: '*', ast.Pow: '**', ast.LShift: '<<', ast.Mod: '%',
                ast.FloorDiv: '//'}


@functools.lru_cache(maxsize=2048)
def _compile(source, mode):
    compiler = compile_restricted_eval if mode == 'eval' else compile_restricted_exec
    result = compiler(source, filename=FILENAME, policy=_Policy)
    return result.code, tuple(result.errors)


def _compiled(source, mode):
    if not isinstance(source, str):
        raise SandboxError(f'expected source text, got {type(source).__name__}')
    code, errors = _compile(source, mode)
    if errors:
        raise SandboxError('; '.join(errors))
    return code


# Python builtins a script might reach for that the sandbox does not provide: using one is
# refused when a diagram is deployed, not when a case first gets there.
_UNAVAILABLE = frozenset({'open', 'compile', 'eval', 'exec', 'globals', 'locals', 'vars', 'input',
                          'getattr', 'setattr', 'delattr', 'breakpoint', 'memoryview', 'help',
                          'exit', 'quit', 'type', 'object', 'super', 'classmethod', 'staticmethod',
                          'property', 'dir', 'id', 'hash', 'iter', 'next', 'aiter', 'anext'})


def _names_used(code) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, 'co_names'):
            names |= _names_used(const)
    return names


def _check(source, mode):
    unavailable = sorted((_names_used(_compiled(source, mode)) & _UNAVAILABLE) - set(BUILTINS))
    if unavailable:
        raise SandboxError(f"not available in scripts: {', '.join(unavailable)}")


def check_expression(source: str) -> None:
    _check(source, 'eval')


def check_script(source: str) -> None:
    _check(source, 'exec')


# ---------------------------------------------------------------- run-time guards

_SEQUENCES = (str, bytes, list, tuple)
_OPS = {'+': operator.add, '*': operator.mul, '**': operator.pow, '<<': operator.lshift,
        '%': operator.mod, '//': operator.floordiv}
_INPLACE = {op + '=': getattr(operator, 'i' + fn.__name__) for op, fn in _OPS.items()}
_INPLACE.update({'-=': operator.isub, '/=': operator.itruediv, '>>=': operator.irshift,
                 '&=': operator.iand, '|=': operator.ior, '^=': operator.ixor,
                 '@=': operator.imatmul})
_PERCENT_SPEC = re.compile(r'%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?')


def _limit(size, limit=MAX_ITEMS, what='result'):
    if size > limit:
        raise SandboxError(f'{what} would be too large ({size} > {limit})')


def _check_binop(op, a, b):
    if isinstance(a, int) and isinstance(b, int):
        # Ints above MAX_INT_BITS (e.g. from int(s, 16)) would make // and % quadratic.
        bits = max(a.bit_length(), b.bit_length())
        if op == '*':
            bits = a.bit_length() + b.bit_length()
        elif op == '**' and b > 0 and abs(a) > 1:
            bits = a.bit_length() * b
        elif op == '<<':
            bits = a.bit_length() + b
        _limit(bits, MAX_INT_BITS, 'integer size in bits')
    elif op == '*' and isinstance(a, _SEQUENCES) and isinstance(b, int):
        _limit(len(a) * b)
    elif op == '*' and isinstance(b, _SEQUENCES) and isinstance(a, int):
        _limit(len(b) * a)
    elif op == '+' and isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _limit(len(a) + len(b))
    elif op == '%' and isinstance(a, (str, bytes)):
        text = a.decode('latin-1') if isinstance(a, bytes) else a
        for width, precision in _PERCENT_SPEC.findall(text):
            if '*' in (width, precision):
                raise SandboxError("'*' widths are not allowed in % formatting")
            _limit(max(int(width or 0), int(precision or 0)), what='formatted width')


def _binop(op, a, b):
    _check_binop(op, a, b)
    return _OPS[op](a, b)


def _inplacevar(op, a, b):
    if op == '+=' and isinstance(a, list) and not isinstance(b, _SEQUENCES):
        b = list(b)  # l += map(f, l) would otherwise grow l forever inside one C call
    _check_binop(op[:-1], a, b)
    return _INPLACE[op](a, b)


def _format_spec(spec):  # f'{x:>{n}}': no width or precision above MAX_ITEMS
    for number in re.findall(r'\d+', spec):
        _limit(int(number), what='formatted width')
    return spec


def _pow(base, exp, mod=None):
    if mod is None:
        return _binop('**', base, exp)
    if all(isinstance(n, int) for n in (base, exp, mod)):
        _limit(max(base.bit_length(), exp.bit_length(), mod.bit_length()), 4096, 'pow() operand bits')
    return pow(base, exp, mod)


def _divmod(a, b):
    _check_binop('//', a, b)
    return divmod(a, b)


def _round(number, ndigits=None):
    if ndigits is None:
        return round(number)
    _limit(abs(ndigits), 1000, 'round() digits')  # round(1, -10**7) computes 10**10**7
    return round(number, ndigits)


def _range(*args):
    r = range(*args)
    try:
        size = len(r)
    except OverflowError:
        size = sys.maxsize
    _limit(size, MAX_RANGE, 'range')
    return r


def _sum(items, start=0):
    if not isinstance(start, _SEQUENCES):
        return sum(items, start)
    for item in items:  # each '+' is size-checked (and is a traced call)
        start = _binop('+', start, item)
    return start


def _join_size(sep, items):
    try:
        return len(sep) * max(len(items) - 1, 0) + sum(map(len, items))
    except TypeError:
        return 0  # join() itself refuses items that are not strings


# Result size of methods that can build a huge object in one C call. Wrapping list.append
# and friends in Python also makes C loops such as map(lst.append, lst) hit the time limit.
_GROWTH = {
    'ljust': lambda s, width, *_: width, 'rjust': lambda s, width, *_: width,
    'center': lambda s, width, *_: width, 'zfill': lambda s, width: width,
    'expandtabs': lambda s, tabsize=8: len(s) + tabsize * s.count(
        '\t' if isinstance(s, str) else b'\t'),
    'replace': lambda s, old, new, count=-1: len(s) + max(len(new) - len(old), 0) * (
        s.count(old) if old else len(s) + 1),
    'join': _join_size,
    'translate': lambda s, table: len(s) * max([1] + [len(v) for v in table.values()
                                                      if isinstance(v, str)])
    if isinstance(table, dict) else len(s),
    'to_bytes': lambda n, length=1, *_, **__: length,
    'extend': lambda lst, items: len(lst) + len(items),
    'append': lambda lst, item: 0, 'insert': lambda lst, index, item: 0,
}
_GROWING_TYPES = (str, bytes, list, int)
_MISSING = object()


def _getattr(obj, name):
    # safer_getattr's default would turn a misspelt attribute into None: raise instead.
    try:
        value = safer_getattr(obj, name, _MISSING)
    except NotImplementedError as exc:  # str.format / format_map
        raise SandboxError(f'{exc} (use an f-string)') from None
    if value is _MISSING:
        raise AttributeError(f'{type(obj).__name__!r} object has no attribute {name!r}')
    if name in _GROWTH and isinstance(obj, type) and issubclass(obj, _GROWING_TYPES):
        raise SandboxError(f'call {name}() on a value, not on a type')
    if name in _GROWTH and isinstance(obj, _GROWING_TYPES):
        return _checked_method(value, obj, name)
    return value


def _checked_method(method, obj, name):
    def call(*args, **kwargs):
        if name in ('join', 'extend') and args:
            args = (list(args[0]),) + args[1:]
        _limit(_GROWTH[name](obj, *args, **kwargs))
        return method(*args, **kwargs)
    return call


def _apply(func, *args, **kwargs):
    return func(*args, **kwargs)


class _Print:
    """print() in diagram code: output is discarded, writing to a file is refused."""

    def __init__(self, _getattr_=None):
        pass

    def _call_print(self, *objects, **kwargs):
        if kwargs.get('file') is not None:
            raise SandboxError('print(file=...) is not allowed')

    def __call__(self):
        return ''


_EXTRA_BUILTINS = ('len', 'min', 'max', 'sum', 'sorted', 'abs', 'round', 'any', 'all',
                   'enumerate', 'zip', 'dict', 'list', 'set', 'tuple', 'str', 'int', 'float',
                   'bool', 'isinstance', 'map', 'filter', 'reversed')
_DROPPED = ('__build_class__', 'setattr', 'delattr', '_getattr_', 'BaseException',
            'SystemExit', 'KeyboardInterrupt', 'GeneratorExit')
BUILTINS = {name: value for name, value in safe_builtins.items() if name not in _DROPPED}
BUILTINS.update({name: getattr(builtins, name) for name in _EXTRA_BUILTINS})
BUILTINS.update(range=_range, pow=_pow, sum=_sum, divmod=_divmod, round=_round,
                RecursionError=RecursionError)

GUARDS = {
    '__builtins__': BUILTINS, '_getattr_': _getattr, '_getitem_': default_guarded_getitem,
    '_getiter_': default_guarded_getiter, '_iter_unpack_sequence_': guarded_iter_unpack_sequence,
    '_unpack_sequence_': guarded_unpack_sequence, '_write_': full_write_guard,
    '_inplacevar_': _inplacevar, '_binop_': _binop, '_format_spec_': _format_spec,
    '_apply_': _apply, '_print_': _Print, '_print': _Print(),
}


# ---------------------------------------------------------------- the environment

class SandboxEnvironment(TaskDataEnvironment):

    def __init__(self, helpers: dict | None = None, time_limit: float = 1.0):
        super().__init__(dict(helpers or {}, **GUARDS))
        self.time_limit = time_limit

    def evaluate(self, expression, context, external_context=None):
        code = _compiled(expression, 'eval')
        self._prepare_context(context)
        namespace = dict(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        namespace.update(GUARDS)  # task data must not replace a guard
        return self._run(code, namespace)

    def execute(self, script, context, external_context=None):
        code = _compiled(script, 'exec')
        self.check_for_overwrite(context, external_context or {})
        self._prepare_context(context)
        before = set(context)
        context.update(external_context or {})
        context.update(self.globals)
        try:
            self._run(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
            for key in [k for k in context if k.startswith('_') and k not in before]:
                del context[key]  # RestrictedPython's temporaries
        return True

    def _run(self, code, namespace):
        limit = self.time_limit
        # The limit is CPU time of this thread: a busy machine (waiting for a core) or a helper
        # waiting on the database does not use it up. The cheap monotonic clock is read on every
        # opcode; only once it passes the deadline is the thread's CPU time read, and the deadline
        # moved on by what is left. WALL_FACTOR x the limit bounds the wall time all the same.
        cpu_start, wall_start = time.thread_time(), time.monotonic()
        deadline = [wall_start + limit]

        def spent() -> bool:
            now = time.monotonic()
            used = time.thread_time() - cpu_start
            if used >= limit or now - wall_start >= limit * WALL_FACTOR:
                return True
            deadline[0] = now + (limit - used)
            return False

        def expired():
            return ScriptTimeout(f'script ran longer than {limit} s')

        def local(frame, event, arg):  # per-frame trace: every opcode of sandboxed code
            if time.monotonic() > deadline[0] and spent():
                raise expired()
            return local

        def tracer(frame, event, arg):  # global trace: every new Python frame
            if time.monotonic() > deadline[0] and spent():
                raise expired()
            if frame.f_code.co_filename == FILENAME:
                frame.f_trace_opcodes = True
                return local
            return None

        def check_time():  # first statement of every except/finally block
            if time.monotonic() > deadline[0] and spent():
                raise expired()
            if sys.gettrace() is not tracer:  # an error inside the tracer switched it off
                sys.settrace(tracer)
                caller = sys._getframe(1)
                caller.f_trace, caller.f_trace_opcodes = local, True

        namespace['_check_time_'] = check_time
        previous = sys.gettrace()
        sys.settrace(tracer)
        try:
            return eval(code, namespace)
        except RecursionError:
            raise SandboxError('recursion too deep') from None
        except (Exception, KeyboardInterrupt):
            raise
        except BaseException as exc:  # e.g. BaseException, reachable as Exception.mro()[1]
            raise SandboxError(f'{type(exc).__name__} is not allowed') from None
        finally:
            sys.settrace(previous)
            namespace.pop('_check_time_', None)
