"""Memory bombs and escapes against workflows.sandbox: each is refused with a clear error, and the
memory this process allocates while refusing it stays bounded (tracemalloc's peak around each
evaluation). Without the size checks, most of these would ask for gigabytes in one C call, which
no time limit can interrupt."""
import re
import tracemalloc

import pytest

from workflows.sandbox import (OutOfMemory, SandboxEnvironment, SandboxError, ScriptTimeout, TooLarge,
                               check_expression, check_script)

LIMIT = 0.3            # seconds of CPU time per evaluation
MEMORY_LIMIT = 16 * 2**20
GROWTH_MB = 50         # what refusing any of these may allocate at most
TEXT = 'x' * 1_000_000                 # the longest string one operation may build
DATA = {
    'text': TEXT,
    'big': ['y' * 1000] * 100_000,     # 800 KB of references; 100 MB as text
    'n': 10 ** 9,
    'x': 1, 'items': [1, 2, 3],
}


@pytest.fixture
def env():
    return SandboxEnvironment(time_limit=LIMIT, memory_limit=MEMORY_LIMIT)


def peak_growth_mb(action) -> float:
    """Run `action` (it must raise) and return the most memory it had allocated at any time."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        with pytest.raises(Exception) as info:
            action()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - start) / 2**20, info.value


TOO_LARGE = r'结果过大：.* (约为 [\d,]+ (个字符|项|位)|将超过 [\d,]+ 项)'

# name: (expression, error class, message)
EXPRESSION_BOMBS = {
    'str of a big list': ('str(big)', TooLarge, TOO_LARGE),
    'repr of a big list': ('repr(big)', TooLarge, r'repr\(\)'),
    'ascii of a big list': ('ascii(big)', TooLarge, r'ascii\(\)'),
    'str of nested big lists': ('str([[big] * 1000] * 1000)', TooLarge, r'str\(\)'),
    'percent with a big list': ("'%s' % (big,)", TooLarge, r"'%' formatting"),
    'percent with a big list alone': ("'%s' % big", TooLarge, r"'%' formatting"),
    'percent repeating a mapping value': ("'%(t)s%(t)s' % {'t': text}", TooLarge, r"'%' formatting"),
    'percent width': ("'%1000000000d' % 1", TooLarge, r"'%' formatting"),
    'percent star width': ("'%*d' % (n, 1)", SandboxError, r"'\*' widths"),
    'f-string of a big list': ("f'{big}'", TooLarge, r'f-string'),
    'f-string repeating text': ("f'{text}{text}'", TooLarge, r'f-string'),
    'f-string repr': ("f'{text!r}'", TooLarge, r'f-string'),
    'f-string width': ("f'{1:>1000000000}'", TooLarge, r'f-string'),
    'f-string nested width': ("f'{x:>{n}}'", TooLarge, r'f-string'),
    'f-string precision': ("f'{1.5:.1000000000f}'", TooLarge, r'f-string'),
    'format of a big list': ('format(big)', TooLarge, r'format\(\)'),
    'format width': ("format(1, '>1000000000')", TooLarge, r'format\(\)'),
    'str.format width': ("'{:>1000000000}'.format(1)", SandboxError, r'f-string'),
    'join of a big list': ("''.join(big)", TooLarge, r'join\(\)'),
    'join of a generator': ("''.join(text for i in range(1000))", TooLarge, r'join\(\)'),
    'join of a long string': ("','.join(text)", TooLarge, r'join\(\)'),
    'unbound join': ("str.join('', big)", TooLarge, r'join\(\)'),
    'str repeated': ("'x' * 10**9", TooLarge, r'str \* 1,000,000,000'),
    'list repeated': ('[0] * 10**9', TooLarge, r'项'),
    'tuple repeated': ('(0,) * n', TooLarge, r'项'),
    'str concatenated': ('text + text', TooLarge, r'str \+ str'),
    'list of a long string': ('list(text)', TooLarge, r'list\(\)'),
    'set of a long string': ('set(text)', TooLarge, r'set\(\)'),
    'tuple of a long string': ('tuple(text)', TooLarge, r'tuple\(\)'),
    'sorted long string': ('sorted(text)', TooLarge, r'sorted\(\)'),
    'dict of pairs': ('dict(zip(text, text))', TooLarge, r'dict\(\)'),
    'dict.fromkeys': ('dict.fromkeys(text)', TooLarge, r'fromkeys\(\)'),
    'maketrans': ('str.maketrans(text, text)', TooLarge, r'maketrans\(\)'),
    'starred in a list': ('[*text]', TooLarge, r'unpacking'),
    'starred in a call': ('min(*text)', TooLarge, r'unpacking'),
    'split': ("('x ' * 500000).split()", TooLarge, r'split\(\)'),
    'split with a separator': ("text.split('x')", TooLarge, r'split\(\)'),
    'splitlines': ("('x\\n' * 500000).splitlines()", TooLarge, r'splitlines\(\)'),
    'encode': ("('é' * 500000).encode('utf-32')", TooLarge, r'encode\(\)'),
    'upper of non-ASCII': ("('ß' * 500000).upper()", TooLarge, r'upper\(\)'),
    'ljust': ("'x'.ljust(10**9)", TooLarge, r'ljust\(\)'),
    'unbound ljust': ("str.ljust('x', 10**9)", TooLarge, r'ljust\(\)'),
    'replace': ("text.replace('x', 'xx')", TooLarge, r'replace\(\)'),
    'comprehension over a huge range': ('[i for i in range(10**9)]', TooLarge, r'range\(\)'),
    'list of a huge range': ('list(range(10**12))', TooLarge, r'range\(\)'),
    'big int power': ('10**10**8', TooLarge, r'10 \*\* 100000000 约为 [\d,]+ 位'),
    'big int pow()': ('pow(10, 10**8)', TooLarge, r'位'),
    'big int shift': ('1 << 10**9', TooLarge, r'位'),
    'big pow() with a modulus': ('pow(3, 2**10000, 2**10000)', TooLarge, r'pow\(\)'),
    'value too large to return': ('big', TooLarge, r"expression's value"),
    'huge key in an error': ("{}[(text,) * 100000]", SandboxError, r'KeyError：错误信息过长'),
    'bytes': ('bytes(10**9)', NameError, r"'bytes' is not defined"),
    'bytearray': ('bytearray(10**9)', NameError, r"'bytearray' is not defined"),
}


@pytest.mark.parametrize('source, error, message', EXPRESSION_BOMBS.values(), ids=EXPRESSION_BOMBS.keys())
def test_expression_bomb_is_refused_before_it_is_built(env, source, error, message):
    grown, exc = peak_growth_mb(lambda: env.evaluate(source, dict(DATA)))
    assert isinstance(exc, error), f'{type(exc).__name__}: {exc}'
    assert re.search(message, str(exc)), str(exc)
    assert grown < GROWTH_MB


# Loops build up memory one bounded operation at a time: stopped by the memory look (or the
# time limit, whichever comes first on this machine).
SCRIPT_BOMBS = {
    'nested comprehension': ('l = [[0] * 1000 for i in range(1000) for j in range(1000)]', r''),
    'loop appending lists': ('l = []\nwhile True:\n    l.append(list(range(100000)))', r''),
    'map with a C function': ('l = list(map(str.upper, [text] * 1000))', r''),
    'sorted with a C key': ('l = sorted([text] * 1000, key=str.upper)', r''),
    'strings kept in a dict': ('d = {}\nfor i in range(100000):\n    d[i] = text[:10000] + str(i)', r''),
}
# Each loop builds at most a few MB between two looks at the memory (every 2 ms), so the peak stays
# far under GROWTH_MB however fast the machine is (1 MB pieces made it depend on memcpy speed).


@pytest.mark.parametrize('source, message', SCRIPT_BOMBS.values(), ids=SCRIPT_BOMBS.keys())
def test_memory_built_up_by_a_loop_is_bounded(env, source, message):
    grown, exc = peak_growth_mb(lambda: env.execute(source, dict(DATA)))
    assert isinstance(exc, (OutOfMemory, ScriptTimeout)), f'{type(exc).__name__}: {exc}'
    assert grown < GROWTH_MB


SCRIPT_REFUSALS = {
    # (100,000 traced calls: on a slow machine the time limit may strike first)
    'list growing inside map': ('l = [1]\nlist(map(l.append, l))', (TooLarge, ScriptTimeout),
                                r'more than 100,000 items|script ran longer'),
    'list += map of itself': ('l = [1]\nl += map(l.append, l)', (TooLarge, ScriptTimeout),
                              r'more than 100,000 items|script ran longer'),
    'unpacking a long string': ('a, *b = text', TooLarge, r'unpacking'),
    'for-unpacking a long string': ('for a, *b in [text]:\n    pass', TooLarge, r'unpacking'),
    'huge task data left behind': ('l = [text] * 100000', TooLarge, r'task data'),
    'huge data in an existing list': ('items.extend([text] * 20)', TooLarge, r'task data'),
    'error carrying a big list': ('raise ValueError(big)', SandboxError, r'错误信息过长'),
    'deeply nested list as text': ('l = []\nfor i in range(5000):\n    l = [l]\ns = str(l)', SandboxError,
                                   r'recursion too deep'),
}


@pytest.mark.parametrize('source, error, message', SCRIPT_REFUSALS.values(), ids=SCRIPT_REFUSALS.keys())
def test_script_bomb_is_refused(env, source, error, message):
    grown, exc = peak_growth_mb(lambda: env.execute(source, dict(DATA)))
    assert isinstance(exc, error), f'{type(exc).__name__}: {exc}'
    assert re.search(message, str(exc)), str(exc)
    assert grown < GROWTH_MB


# ---------------------------------------------------------------- escapes refused at deploy too

ESCAPES = {
    'format-string attribute access': "'{0.__class__}'.format(x)",
    'format-string via the type': "str.format('{0.__class__.__base__}', x)",
    'format_map': "'{a.__class__}'.format_map({'a': x})",
    'f-string dunder': "f'{x.__class__}'",
    'generator frame': '(i for i in items).gi_frame',
    'generator code': '(i for i in items).gi_code',
    'frame of a frame': '(i for i in items).gi_frame.f_back',
    'getattr': "getattr(x, '__class__')",
    'getattr via builtins': "__builtins__['getattr']",
    'type': 'type(x)',
    'subclasses': 'str.mro()[1].__subclasses__()',
    'guard internals': 'str._real',
    'a guard by name': "_binop_('+', 1, 2)",
    'dunder call': 'str.__call__',
    'vars': 'vars(x)',
    'open': "open('/etc/passwd')",
    'import': "__import__('os')",
    'compile': "compile('1', 'f', 'eval')",
}


@pytest.mark.parametrize('source', ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_is_refused_at_deploy_and_at_run_time(env, source):
    with pytest.raises(SandboxError):
        check_expression(source)
    with pytest.raises((SandboxError, NameError)):
        env.evaluate(source, dict(DATA))


def test_hasattr_answers_without_reaching_private_attributes(env):
    assert env.evaluate("hasattr(x, '__class__'), hasattr(x, 'real'), hasattr(s, 'upper')",
                        {'x': 1, 's': 'a'}) == (False, True, True)


def test_guarded_builtins_still_behave_like_the_builtins(env):
    assert env.evaluate("isinstance('a', str) and isinstance([], (list, tuple)) and not isinstance(1, str)", {})
    assert env.evaluate('issubclass(bool, int) and issubclass(str, str)', {})
    assert env.evaluate("sorted(['b', 'A'], key=str.lower), list(map(str, [1, 2])), str.upper('x')", {}) == (
        ['A', 'b'], ['1', '2'], 'X')
    assert env.evaluate("dict.fromkeys('ab', 0), str.maketrans('a', 'b'), str.join('-', ['a', 'b'])", {}) == (
        {'a': 0, 'b': 0}, {97: 98}, 'a-b')
    assert env.evaluate("[*range(3), *'ab'], max([3, 1], key=abs), set('aa'), tuple('ab')", {}) == (
        [0, 1, 2, 'a', 'b'], 3, {'a'}, ('a', 'b'))
    assert env.evaluate("f'{a!r:>5}|{b:{w}.1f}|{c!s}|{{}}'", {'a': 'x', 'b': 2.25, 'w': 6, 'c': [1]}) == (
        "  'x'|   2.2|[1]|{}")
    assert env.evaluate("format(7, '03d') + '%(k)s' % {'k': 'v'} + repr('a') + ascii('é')", {}) == "007v'a''\\xe9'"
    context = {}
    env.execute("a, (b, *c) = 1, 'xyz'\nwords = 'a b  c'.split()\nd = dict([('k', 1)], z=2)\n"
                "d.update(zip('ab', 'cd'))\nn = len(str(list(range(1000))))", context)
    assert context == {'a': 1, 'b': 'x', 'c': ['y', 'z'], 'words': ['a', 'b', 'c'],
                       'd': {'k': 1, 'z': 2, 'a': 'c', 'b': 'd'}, 'n': len(str(list(range(1000))))}


def test_sizes_up_to_the_limits_are_built(env):
    assert len(env.evaluate("f'{text}'", {'text': TEXT})) == len(TEXT)
    assert len(env.evaluate('str(items)', {'items': ['ab'] * 100_000})) == len(str(['ab'] * 100_000))
    assert len(env.evaluate("'-'.join(items)", {'items': ['ab'] * 100_000})) == 299_999
    assert len(env.evaluate('list(range(100000))', {})) == 100_000
    assert len(env.evaluate("('a ' * 100000).split()", {})) == 100_000


def test_a_script_caught_by_the_memory_look_cannot_carry_on(env):
    """The memory stop is final: catching it and allocating on ends in the same error."""
    script = ('l = []\ntry:\n    while True:\n        l.append(list(range(100000)))\nexcept Exception:\n'
              '    pass\nwhile True:\n    l.append(list(range(100000)))')
    grown, exc = peak_growth_mb(lambda: env.execute(script, {}))
    assert isinstance(exc, (OutOfMemory, ScriptTimeout))
    assert grown < GROWTH_MB


def test_check_script_refuses_what_run_time_refuses():
    with pytest.raises(SandboxError, match='脚本中不可用：bytes'):
        check_script('x = bytes(3)')
    check_script('x = format(3, ">4") + str(hasattr(3, "real"))')
