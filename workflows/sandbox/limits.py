"""The sandbox's limits, and the errors it raises when diagram code passes one.

Every limit is a module constant read when it is used, so a deployment (or a test) may change it:
`workflows.sandbox.limits.MAX_TEXT = 2_000_000`.
"""
from ..messages import Message, N_, UserError

MAX_TEXT = 1_000_000       # characters (or bytes) one operation may build: str(), f'', %, join, * ...
MAX_ITEMS = 100_000        # items one operation may build (list(), [x] * n, split ...); longest range()
MAX_INT_BITS = 100_000     # biggest int one operation may build (about 30,000 digits)
MAX_RESULT = 1_000_000     # an expression's value, as text (what task data or a service task receives)
MAX_DATA = 10_000_000      # the task data a script leaves, as text (containers and values it set)
MAX_ERROR = 10_000         # the text of an error leaving the sandbox
MAX_SOURCE = 20_000        # characters of one script or expression
MAX_NESTING = 100          # nesting depth of code, counting each chained operator as a level
MEMORY_LIMIT = 128 * 2**20  # growth of the process's resident memory while one evaluation runs
MEMORY_FIRST_LOOK = 0.001      # seconds into an evaluation of the first look at the memory (and the CPU clock)
MEMORY_CHECK_INTERVAL = 0.002  # seconds between two looks after that
WALL_FACTOR = 10           # a script's wall time is bounded at this many times its CPU-time limit

UNITS = {"characters": N_("个字符"), "items": N_("项"), "bits": N_("位"), "digits": N_("位数字")}


class SandboxError(UserError):
    """Diagram code was refused. Deliberately not a SyntaxError (Spiff's formatter needs lineno).
    The message is a catalog id with parameters, or the compiler's own (English) words as they stand."""


class ScriptTimeout(SandboxError):
    pass


class TooLarge(SandboxError):
    """An operation would build more than a limit allows; refused before anything is built."""


class OutOfMemory(SandboxError):
    """The process grew by more than MEMORY_LIMIT while the script ran."""


def too_large(what: str, size: int, limit: int, unit: str = "characters") -> TooLarge:
    return TooLarge(N_("结果过大：%(what)s 约为 %(size)s %(unit)s（上限 %(limit)s）"), what=what, size=f"{size:,}",
                    unit=Message(UNITS[unit]), limit=f"{limit:,}")


def check_text(size: int, what: str) -> None:
    if size > MAX_TEXT:
        raise too_large(what, size, MAX_TEXT)


def check_items(size: int, what: str) -> None:
    if size > MAX_ITEMS:
        raise too_large(what, size, MAX_ITEMS, "items")
