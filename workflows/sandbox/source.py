"""From source text to code: size and nesting limits checked before parsing, RestrictedPython's
policy plus credflow's rewrites, and the deploy-time checks (check_expression, check_script)."""
from __future__ import annotations

import ast
import functools
import io
import tokenize

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations

from . import limits as L
from ..messages import Message, N_
from .limits import SandboxError
from .names import REFUSED

FILENAME = '<string>'    # Spiff looks for this file name in tracebacks to report the line
TOO_COMPLEX = N_('表达式过于复杂：%(what)s（上限 %(limit)s），请拆成几步')


def _too_complex(what: Message) -> Message:
    return Message(TOO_COMPLEX, what=what, limit=L.MAX_NESTING)

# ---------------------------------------------------------------- before parsing

# Operators that nest in the parse tree; `and`, `or` and comparisons (a < b < c) are flat lists there.
_OPERATORS = frozenset('+ - * / // % ** << >> & | ^ ~ @ . :='.split())
_OPERATOR_WORDS = frozenset({'not', 'if', 'else', 'lambda', 'for', 'await'})
_SEPARATORS = frozenset(', ; = += -= *= /= //= %= **= <<= >>= &= |= ^= @= ->'.split())


def nesting(source: str) -> int:
    """About how deep the parse tree of `source` goes, from its tokens alone (no parse, no
    recursion): each operator of a chain (a + b + c ...) and each bracket, block or lambda
    counts as a level, as it does for the parser and compiler, which recurse once per level."""
    levels = [[0, 0, 0]]  # per open bracket: operators in the current item, its deepest group, deepest item
    indent = deepest = 0
    previous = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            kind, text, level = token.type, token.string, levels[-1]
            after, previous = previous, token
            if kind == tokenize.OP:
                if text in '([{':
                    if after is not None and (after.type in (tokenize.NAME, tokenize.STRING) or after.string in ')]}'):
                        level[0] += 1   # a call or subscript: f()()() nests like a chain
                    levels.append([0, 0, 0])
                elif text in ')]}':
                    if len(levels) > 1:
                        levels.pop()
                        levels[-1][1] = max(levels[-1][1], max(level[2], level[0] + level[1]) + 1)
                elif text in _OPERATORS:
                    level[0] += 1
                elif text in _SEPARATORS:
                    level[2], level[0], level[1] = max(level[2], level[0] + level[1]), 0, 0
            elif kind == tokenize.NAME and text in _OPERATOR_WORDS:
                level[0] += 1
            elif kind == tokenize.INDENT:
                indent += 1
            elif kind == tokenize.DEDENT:
                indent -= 1
            elif kind == tokenize.NEWLINE and len(levels) == 1:
                deepest = max(deepest, indent + max(level[2], level[0] + level[1]))
                levels = [[0, 0, 0]]
    except (tokenize.TokenError, SyntaxError):
        pass  # the compiler reports it, with its line
    return max([deepest] + [indent + max(lv[2], lv[0] + lv[1]) for lv in levels])


def source_problem(source: str) -> str | Message | None:
    if '\x00' in source:
        return 'Line 1: SyntaxError: source code cannot contain null characters'
    depth = nesting(source)
    if depth > L.MAX_NESTING:
        return _too_complex(Message(N_('约 %(depth)s 层嵌套或连续的运算'), depth=f'{depth:,}'))
    return None


# ---------------------------------------------------------------- compile-time policy

class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: no imports, classes, generators or str.format();
    size-checked arithmetic, f-strings and *unpacking; a deadline check at the top of every
    except/finally block, because a timeout raised from the trace function switches tracing
    off and could otherwise be caught."""

    def visit_Import(self, node):
        self.error(node, 'import statements are not allowed.')

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, 'class definitions are not allowed.')

    def visit_Yield(self, node):
        self.error(node, 'generator functions (yield) are not allowed.')

    visit_YieldFrom = visit_Yield

    def visit_Attribute(self, node):
        if node.attr in ('format', 'format_map'):   # '{0.__class__}'.format(x) reads any attribute
            self.error(node, f'str.{node.attr}() is not allowed (use an f-string).')
        return super().visit_Attribute(node)

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

    def visit_JoinedStr(self, node):
        """f'a{x!r:>{n}}' -> _fstring_(('a', (114, True)), x, _fstring_(((-1, False),), n))"""
        node = self.node_contents_visit(node)
        layout, args = [], []
        for part in node.values:
            if isinstance(part, ast.Constant):
                layout.append(part.value)
            else:
                args.append(part.value)
                if part.format_spec is not None:
                    args.append(part.format_spec)   # itself rewritten into an _fstring_ call
                layout.append((part.conversion, part.format_spec is not None))
        return self._call('_fstring_', node, ast.Constant(tuple(layout)), *args)

    def visit_Starred(self, node):
        node = self.node_contents_visit(node)
        if isinstance(node.ctx, ast.Load):   # f(*x), [*x]: not more than MAX_ITEMS
            node.value = self._call('_starred_', node.value, node.value)
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
def compile_source(source: str, mode: str):
    """(code or None, errors): cached, so a gateway's condition is compiled once per process."""
    problem = source_problem(source)
    if problem:
        return None, (problem,)
    compiler = compile_restricted_eval if mode == 'eval' else compile_restricted_exec
    try:
        result = compiler(source, filename=FILENAME, policy=_Policy)
    except (RecursionError, MemoryError):
        return None, (_too_complex(Message(N_('嵌套过深，无法编译'))),)
    except ValueError as exc:   # e.g. a null character
        return None, (f'Line 1: SyntaxError: {exc}',)
    return result.code, tuple(result.errors)


def compiled(source, mode: str):
    if not isinstance(source, str):
        raise SandboxError(f'expected source text, got {type(source).__name__}')
    if len(source) > L.MAX_SOURCE:   # before the cache, which would keep it
        raise SandboxError(N_('代码过长：%(length)s 个字符（上限 %(limit)s）'), length=f'{len(source):,}',
                           limit=f'{L.MAX_SOURCE:,}')
    code, errors = compile_source(source, mode)
    if errors:
        from ..messages import Joined
        raise SandboxError(errors[0] if len(errors) == 1 and isinstance(errors[0], Message) else Joined(errors, '; '))
    return code


# ---------------------------------------------------------------- deploy-time checks

def _names_used(code) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, 'co_names'):
            names |= _names_used(const)
    return names


def _names_bound(source: str, mode: str) -> set:
    """Names the code itself assigns (bytes = 1 makes `bytes` a variable of the script)."""
    bound = set()
    for node in ast.walk(ast.parse(source, mode=mode)):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound


def _check(source, mode):
    refused = _names_used(compiled(source, mode)) & REFUSED
    if refused:
        refused -= _names_bound(source, mode)
    if refused:
        raise SandboxError(N_("脚本中不可用：%(names)s"), names=", ".join(sorted(refused)))


def check_expression(source: str) -> None:
    """Refuse (SandboxError) what the sandbox would refuse to run as an expression."""
    _check(source, 'eval')


def check_script(source: str) -> None:
    """Refuse (SandboxError) what the sandbox would refuse to run as a script."""
    _check(source, 'exec')
