"""SandboxEnvironment: SpiffWorkflow's script environment, running compiled diagram code with the
guards installed, bounded in time (this thread's CPU time, by tracing) and in memory (the
process's resident size, looked at every few milliseconds while the code runs)."""
from __future__ import annotations

import ctypes
import gc
import os
import resource
import sys
import threading
import time

from SpiffWorkflow.bpmn.script_engine import TaskDataEnvironment

from ..messages import N_
from . import limits as L
from .limits import OutOfMemory, SandboxError, ScriptTimeout, too_large
from .names import GUARDS
from .sizes import REPR, text_size
from .source import FILENAME, compiled

_SMALL = (bool, int, float, str, type(None))   # sizes already bounded by the guards
_PAGE = os.sysconf('SC_PAGE_SIZE') if hasattr(os, 'sysconf') else 4096


def resident_bytes() -> int:
    """This process's resident memory now (Linux), else its peak so far."""
    try:
        fd = os.open('/proc/self/statm', os.O_RDONLY)
        try:
            return int(os.read(fd, 200).split()[1]) * _PAGE
        finally:
            os.close(fd)
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ('arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks',
                                                     'fsmblks', 'uordblks', 'fordblks', 'keepcost')]


def _mallinfo2():
    try:
        function = ctypes.CDLL(None).mallinfo2   # glibc 2.33+
    except (OSError, AttributeError):
        return None
    function.restype, function.argtypes = _MallInfo2, []
    return function


_MALLINFO2 = _mallinfo2()


def allocated_bytes() -> int:
    """Bytes the C allocator has handed out and not taken back (0 where it cannot tell). Unlike
    the resident size, this grows when freed memory the process already holds is reused."""
    if _MALLINFO2 is None:
        return 0
    info = _MALLINFO2()
    return info.uordblks + info.hblkhd


class _CollectorClock(threading.local):
    """The time this thread has spent in the garbage collector. A full collection walks the whole
    heap of a big process (a second or more) and may start inside any evaluation: that time is the
    process's, not the script's, so the limits leave it out."""
    running = False
    cpu = 0.0      # seconds of this thread's CPU time in finished collections
    wall = 0.0
    started = (0.0, 0.0)


_collector = _CollectorClock()


def _collection_starts(phase, info):
    if phase == 'start':
        _collector.running, _collector.started = True, (time.thread_time(), time.monotonic())


def _collection_ends(phase, info):
    if phase == 'stop' and _collector.running:
        cpu, wall = _collector.started
        _collector.cpu += time.thread_time() - cpu
        _collector.wall += time.monotonic() - wall
        _collector.running = False


def _clock_collections() -> None:
    """Keep the collector's clock around every other callback: while one runs (traced as well), the
    tracer must not raise; an error there would be dropped and switch the tracing off."""
    callbacks = gc.callbacks
    if callbacks[:1] != [_collection_starts] or callbacks[-1:] != [_collection_ends]:
        for callback in (_collection_starts, _collection_ends):
            while callback in callbacks:
                callbacks.remove(callback)
        callbacks.insert(0, _collection_starts)
        callbacks.append(_collection_ends)


def _check_value(value, limit: int, what: str) -> None:
    if not isinstance(value, _SMALL):
        size = text_size(value, limit, REPR)
        if size > limit:
            raise too_large(what, size, limit)


def _drop_globals(context: dict, env_globals: dict, external_context: dict | None) -> None:
    """After a script, what TaskDataEnvironment takes out of the task data (builtins, functions, the
    environment's globals, the external context), here so no private SpiffWorkflow method is called."""
    for key in list(context):
        if key == "__builtins__" or callable(context[key]) or key in env_globals or \
                (external_context and key in external_context):
            context.pop(key)


class SandboxEnvironment(TaskDataEnvironment):

    def __init__(self, helpers: dict | None = None, time_limit: float = 1.0, memory_limit: int | None = None):
        super().__init__(dict(helpers or {}, **GUARDS))
        self.time_limit = time_limit
        self.memory_limit = L.MEMORY_LIMIT if memory_limit is None else memory_limit

    def evaluate(self, expression, context, external_context=None):
        code = compiled(expression, 'eval')
        namespace = dict(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        namespace.update(GUARDS)  # task data must not replace a guard
        result = self._run(code, namespace)
        if not isinstance(result, _SMALL):
            _check_value(result, L.MAX_RESULT, "the expression's value as text")
        return result

    def execute(self, script, context, external_context=None):
        code = compiled(script, 'exec')
        self.check_for_overwrite(context, external_context or {})
        before = {key: id(value) for key, value in context.items()}
        context.update(external_context or {})
        context.update(self.globals)
        try:
            self._run(code, context)
        finally:
            _drop_globals(context, self.globals, external_context)
            for key in [k for k in context if k.startswith('_') and k not in before]:
                del context[key]  # RestrictedPython's temporaries
        # What the script set (and every container it could have changed) becomes task data.
        changed = [v for k, v in context.items() if before.get(k) != id(v) or not isinstance(v, _SMALL)]
        _check_value(changed, L.MAX_DATA, 'the task data this script leaves, as text,')
        return True

    def _run(self, code, namespace):
        limit, memory_limit = self.time_limit, self.memory_limit
        # The limit is CPU time of this thread, less its garbage collections: a busy machine (waiting
        # for a core) or a helper waiting on the database does not use it up. The cheap monotonic clock is read on every
        # opcode; only once it passes the next checkpoint (every MEMORY_CHECK_INTERVAL) are the
        # thread's CPU time and the process's memory read. WALL_FACTOR x the limit bounds the wall
        # time all the same. A stop is final: from then on every traced event raises it again.
        interval = L.MEMORY_CHECK_INTERVAL
        _clock_collections()
        cpu_start, wall_start = time.thread_time(), time.monotonic()
        collected = (_collector.cpu, _collector.wall)   # collections so far; later ones are left out
        checkpoint = [wall_start + min(limit, L.MEMORY_FIRST_LOOK)]
        # Memory is first looked at on the first checkpoint: most evaluations end long before.
        state = {'stop': None, 'resident': None, 'allocated': 0}

        def stopped():   # the error to raise, or None
            if _collector.running:   # in a collection's callbacks: not the script's time, and no raising
                return None
            if state['stop'] is None:
                now = time.monotonic()
                used = time.thread_time() - cpu_start - (_collector.cpu - collected[0])
                waited = now - wall_start - (_collector.wall - collected[1])
                if used >= limit or waited >= limit * L.WALL_FACTOR:
                    state['stop'] = lambda: ScriptTimeout(f'script ran longer than {limit} s')
                else:
                    resident, allocated = resident_bytes(), allocated_bytes()
                    if state['resident'] is None:
                        state['resident'], state['allocated'] = resident, allocated
                    grown = max(resident - state['resident'], allocated - state['allocated'])
                    if grown > memory_limit:
                        state['stop'] = lambda: OutOfMemory(
                            N_('脚本内存占用过多：进程增长了 %(grown)s MB（上限 %(limit)s MB）'),
                            grown=f'{grown // 2**20:,}', limit=f'{memory_limit // 2**20:,}')
                if state['stop'] is None:
                    checkpoint[0] = now + min(limit - used, interval)
                    return None
                checkpoint[0] = 0.0
            return state['stop']()

        def local(frame, event, arg):  # per-frame trace: every opcode of sandboxed code
            if time.monotonic() > checkpoint[0] and (stop := stopped()) is not None:
                raise stop
            return local

        def tracer(frame, event, arg):  # global trace: every new Python frame
            if time.monotonic() > checkpoint[0] and (stop := stopped()) is not None:
                raise stop
            if frame.f_code.co_filename == FILENAME:
                frame.f_trace_opcodes = True
                return local
            return None

        def check_time():  # first statement of every except/finally block
            if time.monotonic() > checkpoint[0] and (stop := stopped()) is not None:
                raise stop
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
        except MemoryError:
            raise OutOfMemory(N_('内存不足')) from None
        except (SandboxError, KeyboardInterrupt):
            raise
        except Exception as exc:
            if text_size(exc, L.MAX_ERROR, REPR) > L.MAX_ERROR:   # KeyError((big,) * 100000)
                raise SandboxError(N_('%(error)s：错误信息过长'), error=type(exc).__name__) from None
            raise
        except BaseException as exc:  # e.g. BaseException, reachable as Exception.mro()[1]
            raise SandboxError(f'{type(exc).__name__} is not allowed') from None
        finally:
            sys.settrace(previous)
            namespace.pop('_check_time_', None)
