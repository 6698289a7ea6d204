"""Tests for workflows.sandbox: escapes refused, normal diagram code works, time is bounded."""
import sys
import threading
import time

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from workflows import sandbox
from workflows.sandbox import (ScriptTimeout, SandboxEnvironment, SandboxError,
                               check_expression, check_script)

LIMIT = 0.3


@pytest.fixture
def env():
    return SandboxEnvironment(time_limit=LIMIT)


def run(env, source, **data):
    context = {'x': 1, 'items': [1, 2, 3], **data}
    env.execute(source, context)
    return context


# ---------------------------------------------------------------- escape attempts

ESCAPES = {
    'import': 'import os',
    'from import': 'from os import system',
    'dunder import': "__import__('os')",
    'open': "open('/etc/passwd').read()",
    'subclasses': '().__class__.__base__.__subclasses__()',
    'mro subclasses': 'str.mro()[1].__subclasses__()',
    'getattr builtin': "getattr(x, '__class__')",
    'type': 'type(x)',
    'object dict': 'x.__dict__',
    'format attribute': "'{0.__class__}'.format(1)",
    'format plain field': "'{0.__class__.__base__}'.format(x)",
    'str.format unbound': "str.format('{0.__class__}', 1)",
    'format_map': "'{a.__class__}'.format_map({'a': 1})",
    'lambda globals': 'f = lambda: 0\ng = f.__globals__',
    'function code': 'def f():\n    pass\nc = f.__code__',
    'generator frame': 'g = (i for i in items)\nfr = g.gi_frame',
    'generator code': 'g = (i for i in items)\nc = g.gi_code',
    'traceback frame': 'try:\n    1 / 0\nexcept Exception as e:\n    t = e.__traceback__',
    'eval': "eval('1')",
    'exec': "exec('y = 1')",
    'compile': "compile('1', 'f', 'eval')",
    'globals': 'globals()',
    'vars': 'vars()',
    'locals': 'locals()',
    'dir': 'dir(x)',
    'breakpoint': 'breakpoint()',
    'setattr': "setattr(items, 'a', 1)",
    'print to file object': "print('secret', file=items)",
    'print to open file': "print('secret', file=open('/tmp/x', 'w'))",
    'rebind guard': '_getattr_ = lambda o, n: 1',
    'class statement': 'class A:\n    pass',
    'generator function': 'def g():\n    yield 1',
    'raise BaseException': 'raise Exception.mro()[1]',
    'except with call': 'try:\n    1 / 0\nexcept (lambda: Exception)():\n    pass',
    'huge repetition': "s = 'a' * 10**10",
    'huge list': 'l = [0] * 10**9',
    'huge power': 'n = 10**10**10',
    'huge pow builtin': 'n = pow(10, 10**10)',
    'huge shift': 'n = 1 << 10**10',
    'huge powmod': 'n = pow(3, 2**10000, 2**10000)',
    'huge range': 'l = list(range(10**12))',
    'huge ljust': "s = 'x'.ljust(10**10)",
    'huge join': "s = ('x' * 10**6).join(['a'] * 10**6)",
    'huge replace': "s = ('x' * 10**5).replace('', 'y' * 10**5)",
    'huge percent width': "s = '%*d' % (10**9, 1)",
    'huge f-string width': "n = 10**9\ns = f'{x:>{n}}'",
    'huge round': 'n = round(1, -10**8)',
    'huge int division': "n = int('f' * 100000, 16) // 3",
    'huge sum of lists': 'l = sum([[0] * 10**6] * 10**6, [])',
    'deep recursion': 'def f(n):\n    return f(n + 1)\nf(0)',
    'lambda recursion': '(lambda f: f(f))(lambda f: f(f))',
}


@pytest.mark.parametrize('source', ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_is_refused(env, source):
    with pytest.raises((SandboxError, NameError)):
        run(env, source)


@pytest.mark.parametrize('source', [
    '__import__("os")', '().__class__', 'x.__class__.__mro__', 'f"{x.__class__}"',
    '(i for i in items).gi_frame', 'eval("1")',
], ids=['import', 'class', 'mro', 'fstring', 'gi_frame', 'eval'])
def test_escape_in_expression_is_refused_at_compile_time(env, source):
    with pytest.raises(SandboxError):
        check_expression(source)
    with pytest.raises(SandboxError):
        env.evaluate(source, {'x': 1, 'items': [1]})


def test_compile_error_carries_restrictedpython_message():
    with pytest.raises(SandboxError) as info:
        check_expression('().__class__')
    assert str(info.value) == (
        'Line 1: "__class__" is an invalid attribute name because it starts with "_".')
    assert not isinstance(info.value, SyntaxError)


def test_import_and_syntax_errors_are_sandbox_errors():
    with pytest.raises(SandboxError, match='import statements are not allowed'):
        check_script('x = 1\nimport os')
    with pytest.raises(SandboxError, match='Line 1: SyntaxError'):
        check_script('x = ')
    with pytest.raises(SandboxError):
        check_expression('x = 1')  # a statement is not an expression
    check_script('x = 1\ny = [i * 2 for i in range(3)]')
    check_expression('x > 1 and y in ("a", "b")')


def test_str_format_is_refused_even_with_plain_fields(env):
    with pytest.raises(SandboxError, match='f-string'):
        env.evaluate("'{} {}'.format(a, b)", {'a': 1, 'b': 2})
    assert env.evaluate("f'{a} {b}'", {'a': 1, 'b': 2}) == '1 2'


def test_missing_attribute_raises_instead_of_returning_none(env):
    with pytest.raises(AttributeError):
        env.evaluate('s.uper()', {'s': 'a'})


def test_system_exit_cannot_be_raised(env):
    with pytest.raises(NameError):
        run(env, 'raise SystemExit')
    with pytest.raises(SandboxError, match='BaseException'):
        run(env, 'raise Exception.mro()[1]()')


# ---------------------------------------------------------------- time limit

TIMEOUTS = {
    'while true': 'while True:\n    pass',
    'one-line while true': 'while True: pass',
    'timeout caught and ignored': (
        'while True:\n    try:\n        while True: pass\n    except Exception:\n        pass'),
    'timeout swallowed by finally': (
        'def f():\n    try:\n        while True: pass\n    finally:\n        return 1\n'
        'f()\nwhile True: pass'),
    'recursion error then loop': (
        'def f():\n    return f()\ntry:\n    f()\nexcept RecursionError:\n    pass\n'
        'while True: pass'),
    'nested comprehension': 'l = [0 for i in range(100000) for j in range(100000)]',
    'lambda loop': 'l = list(map(lambda i: [0 for j in range(100000)], range(100000)))',
}


@pytest.mark.parametrize('source', TIMEOUTS.values(), ids=TIMEOUTS.keys())
def test_runaway_code_times_out(env, source):
    # The limit is this thread's CPU time (a busy machine does not use it up): the script must not
    # run on past it (each of these would run for hours without the limit).
    start = time.thread_time()
    with pytest.raises(ScriptTimeout, match=f'script ran longer than {LIMIT} s'):
        run(env, source)
    assert time.thread_time() - start < 2 * LIMIT


def test_waiting_is_not_running_a_slow_machine_or_a_helper_waiting_does_not_time_a_script_out():
    """A helper that waits (here: sleeps 2x the limit, as a helper waiting on the database would,
    or as a script of a machine whose cores are busy elsewhere) uses no CPU: the script finishes.
    Waiting is still bounded: at WALL_FACTOR x the limit the script is stopped."""
    from workflows.sandbox import WALL_FACTOR
    env = SandboxEnvironment(helpers={'wait': lambda seconds: time.sleep(seconds)}, time_limit=LIMIT)
    data = {}
    env.execute(f'wait({2 * LIMIT})\ndone = 1', data)
    assert data['done'] == 1
    with pytest.raises(ScriptTimeout):
        env.execute(f'for i in range(3):\n    wait({WALL_FACTOR * LIMIT / 2})', {})


def test_a_long_garbage_collection_during_an_evaluation_is_not_the_scripts_time():
    """A full collection of a big process's heap can take a second and may start inside any
    evaluation (the suite once failed on the expression `legal_basis`). The collector's time is left
    out of the limit; the script's own time still counts."""
    import gc

    def slow_collection(phase, info):   # stands in for walking a heap of millions of objects
        if phase == 'start':
            end = time.thread_time() + 2 * LIMIT
            while time.thread_time() < end:
                pass

    env = SandboxEnvironment(helpers={'collect': gc.collect}, time_limit=LIMIT)
    gc.callbacks.append(slow_collection)
    try:
        assert env.evaluate('collect() >= 0 and legal_basis', {'legal_basis': '第十条'}) == '第十条'
        data = {}
        env.execute('collect()\ndone = 1', data)
        assert data['done'] == 1
        # bounded (a second untraced, a minute traced): a tracer switched off fails here, not hangs
        with pytest.raises(ScriptTimeout):
            env.execute('collect()\nfor i in range(100000):\n    for j in range(300):\n        pass', {})
    finally:
        gc.callbacks.remove(slow_collection)


def test_timeout_in_expression(env):
    with pytest.raises(ScriptTimeout):
        env.evaluate('[0 for i in range(100000) for j in range(100000)]', {})


def test_timeout_restores_previous_trace_and_thread_stays_usable(env):
    calls = []

    def outer_tracer(frame, event, arg):
        calls.append(event)
        return None

    saved = sys.gettrace()
    sys.settrace(outer_tracer)
    try:
        with pytest.raises(ScriptTimeout):
            env.execute('while True: pass', {})
        assert sys.gettrace() is outer_tracer
        assert env.evaluate('x + 1', {'x': 1}) == 2
        assert sys.gettrace() is outer_tracer
    finally:
        sys.settrace(saved)


def test_timeout_from_another_thread(env):
    results = {}

    def worker():
        results['trace_before'] = sys.gettrace()  # None, or a coverage tracer
        try:
            env.evaluate('[0 for i in range(100000) for j in range(100000)]', {})
        except ScriptTimeout as exc:
            results['timeout'] = exc
        results['after'] = env.evaluate('a * 2', {'a': 21})
        results['trace'] = sys.gettrace()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(60)   # returns as soon as the thread ends; a generous bound for a busy machine
    assert isinstance(results['timeout'], ScriptTimeout)
    assert results['after'] == 42
    assert results['trace'] is results['trace_before']


def test_timeout_is_a_sandbox_error_but_not_a_syntax_error():
    assert issubclass(ScriptTimeout, SandboxError)
    assert not issubclass(SandboxError, SyntaxError)


# ---------------------------------------------------------------- normal code works

def test_assignment_lands_in_context(env):
    context = run(env, 'y = x + 1')
    assert context['y'] == 2


def test_dict_from_context_is_writable(env):
    data = {'d': {'a': 1}}
    env.execute("d['k'] = 1\nd.update({'b': 2})\nd['a'] = d['a'] + 1", data)
    assert data['d'] == {'a': 2, 'k': 1, 'b': 2}
    with pytest.raises(SandboxError, match='Augmented assignment of object items'):
        env.execute("d['a'] += 1", data)  # RestrictedPython refuses += on items


def test_common_script_constructs(env):
    context = run(env, '\n'.join([
        'total = sum(i * 2 for i in items)',
        'squares = [i ** 2 for i in items if i > 1]',
        'by_name = {str(i): i for i in items}',
        'a, (b, c) = 1, (2, 3)',
        'for i, v in enumerate(items):',
        '    last = (i, v)',
        'n = 0',
        'while n < 5:',
        '    n += 1',
        'name = "ada".upper() + "-" + "x".join(["a", "b"]).title()',
        'label = f"{name}: {total:>5}"',
        'old = "%s/%03d" % ("a", 7)',
        'items.append(4)',
        'flags = sorted({1, 3, 2}), max(items), min(items), abs(-2), round(2.567, 2)',
        'q, r = divmod(7, 2)',
        'big = 2 ** 1000 % 7 + pow(2, 10, 7) + 7 // 2',
        'padded = "7".zfill(3) + "a".ljust(3, ".")',
        'nested = sum([[1], [2]], [])',
        'ok = isinstance(total, int) and all(isinstance(i, int) for i in items)',
        'def double(v):',
        '    return v * 2',
        'doubled = list(map(double, items))',
        'try:',
        '    1 / 0',
        'except ZeroDivisionError:',
        '    caught = True',
        'finally:',
        '    done = True',
        'print("debug output is discarded")',
    ]))
    assert context['total'] == 12
    assert context['squares'] == [4, 9]
    assert context['by_name'] == {'1': 1, '2': 2, '3': 3}
    assert (context['a'], context['b'], context['c']) == (1, 2, 3)
    assert context['last'] == (2, 3)
    assert context['n'] == 5
    assert context['name'] == 'ADA-Axb'
    assert context['label'] == 'ADA-Axb:    12'
    assert context['old'] == 'a/007'
    assert context['items'] == [1, 2, 3, 4]
    assert context['flags'] == ([1, 2, 3], 4, 1, 2, 2.57)
    assert (context['q'], context['r']) == (3, 1)
    assert context['big'] == 2 ** 1000 % 7 + 2 + 3
    assert context['padded'] == '007a..'
    assert context['nested'] == [1, 2]
    assert context['ok'] is True
    assert context['doubled'] == [2, 4, 6, 8]
    assert context['caught'] is True and context['done'] is True
    assert 'double' not in context  # functions do not leak into task data
    assert not [k for k in context if k.startswith('_')]


def test_sizes_below_the_limits_are_fine(env):
    assert len(env.evaluate("'a' * 1000", {})) == 1000
    assert len(env.evaluate('[0] * 100000', {})) == 100000
    assert len(env.evaluate('list(range(100000))', {})) == 100000
    assert env.evaluate('2 ** 4096', {}) == 2 ** 4096
    with pytest.raises(SandboxError):
        env.evaluate('range(100001)', {})


def test_evaluate_sees_context_and_does_not_change_it(env):
    context = {'amount': 150, 'status': 'ok'}
    assert env.evaluate("amount > 100 and status == 'ok'", context) is True
    assert env.evaluate('dmninputexpr < 100', context, {'dmninputexpr': 5}) is True
    assert context == {'amount': 150, 'status': 'ok'}


def test_task_data_cannot_replace_a_guard(env):
    assert env.evaluate('s.upper()', {'s': 'a', '_getattr_': 'oops'}) == 'A'


def test_helpers_are_callable_and_not_leaked():
    def add_working_days(start, days):
        return start + days

    env = SandboxEnvironment(helpers={'add_working_days': add_working_days}, time_limit=LIMIT)
    assert env.evaluate('add_working_days(1, 2)', {}) == 3
    context = {'start': 10}
    env.execute('due = add_working_days(start, 5)\nf = lambda: 1', context)
    assert context == {'start': 10, 'due': 15}
    with pytest.raises(SandboxError):
        env.evaluate('add_working_days.__globals__', {})
    with pytest.raises(ValueError, match='overwrites a predefined function'):
        env.execute('y = 1', {'add_working_days': 1})


def test_compiled_code_is_cached(env):
    sandbox.compile_source.cache_clear()
    for value in range(50):
        env.evaluate('amount > 100', {'amount': value})
    info = sandbox.compile_source.cache_info()
    assert info.misses == 1 and info.hits == 49


# ---------------------------------------------------------------- with SpiffWorkflow

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs" targetNamespace="http://credflow/test">
  <bpmn:process id="sandboxed" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="score_it" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gw"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>to_high</bpmn:outgoing><bpmn:outgoing>to_low</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:scriptTask id="mark_high" scriptFormat="python">
      <bpmn:incoming>to_high</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>route = "high"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="mark_low" scriptFormat="python">
      <bpmn:incoming>to_low</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>route = "low"</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end_high"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_low"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="score_it"/>
    <bpmn:sequenceFlow id="f2" sourceRef="score_it" targetRef="gw"/>
    <bpmn:sequenceFlow id="to_high" sourceRef="gw" targetRef="mark_high">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_low" sourceRef="gw" targetRef="mark_low">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">score &lt;= 100</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="mark_high" targetRef="end_high"/>
    <bpmn:sequenceFlow id="f4" sourceRef="mark_low" targetRef="end_low"/>
  </bpmn:process>
</bpmn:definitions>
"""


def make_workflow(script='score = amount * 2', condition='score &gt; 100', data=None):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(BPMN.format(script=script, condition=condition).encode(), 'test.bpmn')
    workflow = BpmnWorkflow(parser.get_spec('sandboxed'),
                            script_engine=PythonScriptEngine(environment=SandboxEnvironment()))
    workflow.get_tasks(spec_name='Start')[0].data.update(data or {})
    return workflow


@pytest.mark.parametrize('amount, route', [(60, 'high'), (10, 'low')])
def test_spiff_script_and_gateway_run_in_sandbox(amount, route):
    workflow = make_workflow(data={'amount': amount})
    workflow.do_engine_steps()
    assert workflow.is_completed()
    data = workflow.last_task.data
    assert data['score'] == amount * 2
    assert data['route'] == route
    assert not [k for k in data if k.startswith('_') or callable(data[k])]


def test_spiff_import_in_script_task_errors():
    workflow = make_workflow(script='import os\nscore = 1', data={'amount': 1})
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert 'import statements are not allowed' in str(info.value)
    assert info.value.error_type == 'SandboxError'
    task = workflow.get_tasks(spec_name='score_it')[0]
    assert task.state == TaskState.ERROR


def test_spiff_escape_in_gateway_condition_errors():
    workflow = make_workflow(condition="__import__('os').system('true')", data={'amount': 1})
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert info.value.error_type == 'SandboxError'  # Spiff's message only quotes the expression
    assert '__import__' in str(info.value)


def test_spiff_runaway_script_times_out():
    workflow = make_workflow(script='while True: pass', data={'amount': 1})
    workflow.script_engine.environment.time_limit = LIMIT
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert 'script ran longer than' in str(info.value)


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d"
    namespace="http://credflow/test">
  <decision id="size_rules" name="size">
    <decisionTable id="t" hitPolicy="UNIQUE">
      <input id="i1" label="amount">
        <inputExpression id="ie1" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="o1" label="size" name="size" typeRef="string"/>
      <rule id="r1">
        <inputEntry id="e1"><text>{cell}</text></inputEntry>
        <outputEntry id="x1"><text>"small"</text></outputEntry>
      </rule>
      <rule id="r2">
        <inputEntry id="e2"><text>&gt;= 100</text></inputEntry>
        <outputEntry id="x2"><text>"large"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""

BPMN_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs2" targetNamespace="http://credflow/test">
  <bpmn:process id="decide" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="rules">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>size_rules</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="rules"/>
    <bpmn:sequenceFlow id="f2" sourceRef="rules" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def run_decision(cell, amount):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(BPMN_DMN.encode(), 'decide.bpmn')
    parser.add_dmn_str(DMN.format(cell=cell).encode(), 'size.dmn')
    workflow = BpmnWorkflow(parser.get_spec('decide'), parser.get_subprocess_specs('decide'),
                            script_engine=PythonScriptEngine(environment=SandboxEnvironment()))
    workflow.get_tasks(spec_name='Start')[0].data['amount'] = amount
    workflow.do_engine_steps()
    return workflow.last_task.data['size']


def test_dmn_cells_run_in_sandbox():
    assert run_decision('&lt; 100', 5) == 'small'
    assert run_decision('&lt; 100', 500) == 'large'
    with pytest.raises(WorkflowTaskException) as info:
        run_decision("? &lt; 100 or ().__class__", 5)
    assert info.value.error_type == 'SandboxError'
