"""Sandboxed evaluation of diagram code.

Managers edit BPMN in the browser, so every script, gateway condition, timer expression,
service-task parameter and DMN cell is untrusted. It is compiled with RestrictedPython and runs
with a small set of builtins and guards (one list: names.py), bounded

- in size before parsing: source length and nesting depth (source.py);
- in what one operation may build: every operation that could build a large string or collection
  in one C call (str(), repr(), format(), %, f-strings, join, * and + on sequences, list(),
  split ...) estimates the result's size from its operands and is refused before it runs
  (guards.py, methods.py, sizes.py), so no single call can outgrow the limits in limits.py;
- in time: this thread's CPU time, checked on every opcode by tracing (environment.py);
- in memory: the process's resident size, looked at every few milliseconds while code runs, for
  what a loop builds up one bounded operation at a time;
- in what leaves: an expression's value, the task data a script leaves and error messages.

Not covered: a single C call can still be slow without building anything ('x' * 10**6 compared
with 100,000 other long strings); the memory look is per process, so two scripts running at once
in one process count each other's growth.
"""
from .environment import SandboxEnvironment
from .limits import WALL_FACTOR, OutOfMemory, SandboxError, ScriptTimeout, TooLarge
from .names import AVAILABLE, BUILTINS, GUARDS, REFUSED
from .source import FILENAME, check_expression, check_script, compile_source

__all__ = ['AVAILABLE', 'BUILTINS', 'FILENAME', 'GUARDS', 'OutOfMemory', 'REFUSED', 'SandboxEnvironment',
           'SandboxError', 'ScriptTimeout', 'TooLarge', 'WALL_FACTOR', 'check_expression', 'check_script',
           'compile_source']
