"""bench/sandbox.py -- what a sandboxed gateway condition costs (a speed target, so a bench, not a test).

Evaluates a typical exclusive-gateway condition (`amount > 100 and status == 'ok'`) --repeat times
through `SandboxEnvironment.evaluate` (compiled once, then traced opcode by opcode against the
time limit) and, for comparison, through plain `eval` of the same compiled expression. Target:
2,000 evaluations in under 1 s (0.5 ms each), which tests/unit/test_sandbox.py used to assert on
whatever machine ran it. The last line is one JSON object with every figure.

    python bench/sandbox.py [--repeat 2000]
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
TARGET_S_PER_2000 = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    env, context = SandboxEnvironment(time_limit=1.0), {"amount": 150, "status": "ok"}
    env.evaluate(CONDITION, context)    # compiled and cached
    t0 = time.perf_counter()
    for _ in range(args.repeat):
        assert env.evaluate(CONDITION, context) is True
    sandboxed = time.perf_counter() - t0
    code = compile(CONDITION, "<bench>", "eval")
    t0 = time.perf_counter()
    for _ in range(args.repeat):
        eval(code, {}, dict(context))
    plain = time.perf_counter() - t0
    per_2000 = sandboxed / args.repeat * 2000
    met = per_2000 < TARGET_S_PER_2000
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (other processes skew the figures)")
    print(f"{args.repeat} evaluations: sandboxed {sandboxed:.3f} s ({sandboxed / args.repeat * 1e6:.0f} µs each), "
          f"plain eval {plain:.3f} s; target {TARGET_S_PER_2000} s per 2,000: {'met' if met else 'NOT met'}")
    print(json.dumps({"bench": "sandbox", "repeat": args.repeat, "sandboxed_s": round(sandboxed, 4),
                      "plain_s": round(plain, 4), "us_per_evaluation": round(sandboxed / args.repeat * 1e6, 1),
                      "target_s_per_2000": TARGET_S_PER_2000, "target_met": met}))


if __name__ == "__main__":
    main()
