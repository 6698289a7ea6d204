"""One list of names: what passes the deploy check is what runs, and what cannot run is refused at
deploy. And sources too long or too deeply nested are refused before they are parsed, with a
message, never a RecursionError."""
import builtins
import time

import pytest

from workflows.engine.script_engine import sandbox_helpers
from workflows.sandbox import (AVAILABLE, REFUSED, SandboxEnvironment, SandboxError, check_expression,
                               check_script)

HELPERS = sandbox_helpers(calendar=None, clock=None)


@pytest.fixture
def env():
    return SandboxEnvironment(helpers=HELPERS, time_limit=1.0)


def test_every_python_builtin_is_either_available_or_refused():
    public = {name for name in dir(builtins) if not name.startswith('_')}
    assert public <= AVAILABLE | REFUSED
    assert not AVAILABLE & REFUSED
    assert {'format', 'hasattr', 'str', 'repr', 'print', 'sorted'} <= AVAILABLE
    assert {'bytes', 'bytearray', 'getattr', 'type', 'open', 'eval', 'id', 'hash'} <= REFUSED


@pytest.mark.parametrize('name', sorted(AVAILABLE | set(HELPERS)))
def test_a_name_that_passes_deploy_runs(env, name):
    check_expression(name)
    check_script(f'value = {name}')
    env.evaluate(name, {})   # no NameError
    env.execute(f'value = {name}', {})


@pytest.mark.parametrize('name', sorted(REFUSED))
def test_a_name_that_cannot_run_is_refused_at_deploy(env, name):
    with pytest.raises(SandboxError, match=rf'\b{name}\b'):   # not available in scripts / a reserved name
        check_expression(f'{name} is None')
    with pytest.raises(SandboxError, match=name):
        check_script(f'value = {name}')
    with pytest.raises((NameError, SandboxError)):
        env.evaluate(f'{name} is None', {})


# what used to pass deploy and then fail at run time
@pytest.mark.parametrize('source, value', [
    ("format(3.14159, '.2f')", '3.14'),
    ("hasattr('text', 'upper')", True),
    ("ascii('é')", "'\\xe9'"),
    ("frozenset([1, 1])", frozenset({1})),
    ("sorted(set('cab'))", ['a', 'b', 'c']),
    ("add_workdays is not None", True),
])
def test_names_that_pass_deploy_evaluate(env, source, value):
    check_expression(source)
    assert env.evaluate(source, {}) == value


def test_a_name_the_script_binds_itself_is_its_own():
    check_script('bytes = 3\nvalue = bytes + 1')
    check_script('def f(type):\n    return type\nvalue = f(1)')
    context = {}
    SandboxEnvironment().execute('bytes = 3\nvalue = bytes + 1', context)
    assert context == {'bytes': 3, 'value': 4}


def test_str_format_is_refused_at_deploy_not_only_at_run_time():
    with pytest.raises(SandboxError, match=r'str\.format\(\) is not allowed \(use an f-string\)'):
        check_expression("'{} {}'.format(a, b)")
    with pytest.raises(SandboxError, match='f-string'):
        check_script("s = '{a}'.format_map(d)")


# ---------------------------------------------------------------- before parsing

TOO_COMPLEX = r'表达式过于复杂'


@pytest.mark.parametrize('source', [
    '+'.join(['x'] * 6000),                    # the condition: 11,999 characters
    '-' * 5000 + 'x',
    'not ' * 3000 + 'x',
    'x' + '.a' * 5000,
    'f' + '()' * 5000,
    'x' + '[0]' * 5000,
    '[' * 150 + ']' * 150,
    'lambda: ' * 2000 + '1',
    ' if x else '.join(['1'] * 1000),
    "f'{" + ' + '.join(['x'] * 3000) + "}'",     # inside an f-string: stopped by the compiler's depth
], ids=['6000 + terms', 'unary minus', 'not', 'attributes', 'calls', 'subscripts', 'lists', 'lambdas',
        'conditional expressions', 'inside an f-string'])
def test_too_deeply_nested_expression_is_refused_with_a_message(env, source):
    started = time.process_time()
    with pytest.raises(SandboxError, match=TOO_COMPLEX):
        check_expression(source)
    with pytest.raises(SandboxError, match=TOO_COMPLEX):
        env.evaluate(source, {'amount': 1, 'x': 1})
    assert time.process_time() - started < 10   # not a hang (a generous bound, CPU time)


def test_nesting_is_counted_in_scripts_too():
    script = ''.join('    ' * i + 'if x:\n' for i in range(40)) + '    ' * 40 + 'y = ' + ' + '.join(['x'] * 80)
    with pytest.raises(SandboxError, match=TOO_COMPLEX):
        check_script(script)
    check_script(script.replace(' + '.join(['x'] * 80), ' + '.join(['x'] * 30)))


def test_long_flat_expressions_are_fine():
    check_expression(' or '.join([f'x == {i}' for i in range(1000)]))   # `or` lists do not nest
    check_expression(' < '.join(['x'] * 1000))                           # nor do comparisons
    check_expression(' + '.join(['x'] * 100))
    check_expression('[' + ', '.join(['x + 1'] * 1000) + ']')


def test_too_long_source_is_refused_before_parsing(env):
    source = ' or '.join(['x == 1'] * 3000)   # 29,996 characters
    with pytest.raises(SandboxError, match=r'代码过长：29,996 个字符（上限 20,000）'):
        check_expression(source)
    with pytest.raises(SandboxError, match='代码过长'):
        env.evaluate(source, {'x': 1})


def test_null_characters_and_bad_syntax_are_problems_not_crashes():
    with pytest.raises(SandboxError, match='Line 1: SyntaxError'):
        check_expression('x\x00')
    with pytest.raises(SandboxError, match='SyntaxError|过于复杂'):
        check_expression('(' * 300 + ')' * 300)
    with pytest.raises(SandboxError, match='SyntaxError|IndentationError|过于复杂'):
        check_script(''.join(' ' * i + 'if x:\n' for i in range(120)) + ' ' * 120 + 'pass')
