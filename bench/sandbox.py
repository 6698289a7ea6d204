"""bench/sandbox.py -- what a sandboxed gateway condition costs (a speed target, so a bench, not a test).

Evaluates a typical exclusive-gateway condition (`amount > 100 and status == 'ok'`) --repeat times
through `SandboxEnvironment.evaluate` (compiled once, then traced opcode by opcode against the
time limit) and, for comparison, through plain `eval` of the same compiled expression; then an
expression that goes through the size guards (an f-string, str() of a list, + of strings).
Target: 2,000 evaluations of the condition in under 1 s (0.5 ms each), which
tests/unit/test_sandbox.py used to assert on whatever machine ran it.

Each figure is the best of --rounds rounds of this thread's CPU time, so other processes on a
busy machine skew it less than wall time would. The last line is one JSON object with every figure.

    python bench/sandbox.py [--repeat 2000] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflows.sandbox import SandboxEnvironment  # noqa: E402

CONDITION = "amount > 100 and status == 'ok'"
GUARDED = "f'{status}: {amount:>6}' + str(items) != ''"
CONTEXT = {"amount": 150, "status": "ok", "items": [1, 2, 3]}
TARGET_S_PER_2000 = 1.0


def best_seconds(run, repeat: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.thread_time()
        for _ in range(repeat):
            run()
        best = min(best, time.thread_time() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    env = SandboxEnvironment(time_limit=1.0)
    assert env.evaluate(CONDITION, CONTEXT) is True and env.evaluate(GUARDED, CONTEXT) is True  # compiled, cached
    sandboxed = best_seconds(lambda: env.evaluate(CONDITION, CONTEXT), args.repeat, args.rounds)
    guarded = best_seconds(lambda: env.evaluate(GUARDED, CONTEXT), args.repeat, args.rounds)
    code = compile(CONDITION, "<bench>", "eval")
    plain = best_seconds(lambda: eval(code, {}, dict(CONTEXT)), args.repeat, args.rounds)
    per_2000 = sandboxed / args.repeat * 2000
    met = per_2000 < TARGET_S_PER_2000
    each = lambda seconds: round(seconds / args.repeat * 1e6, 1)  # noqa: E731
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (other processes skew the figures)")
    print(f"{args.repeat} evaluations, best of {args.rounds} rounds of CPU time: condition {sandboxed:.3f} s "
          f"({each(sandboxed)} µs each), plain eval {plain:.3f} s; guarded expression {each(guarded)} µs each; "
          f"target {TARGET_S_PER_2000} s per 2,000: {'met' if met else 'NOT met'}")
    print(json.dumps({"bench": "sandbox", "repeat": args.repeat, "rounds": args.rounds,
                      "sandboxed_s": round(sandboxed, 4), "plain_s": round(plain, 4),
                      "us_per_evaluation": each(sandboxed), "guarded_us_per_evaluation": each(guarded),
                      "target_s_per_2000": TARGET_S_PER_2000, "target_met": met}))


if __name__ == "__main__":
    main()
