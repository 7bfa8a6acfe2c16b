"""What every benchmark here shares: the same work on both sides, the order alternated, three
rounds, the median kept; and one results table that `make bench` writes."""

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.md"
ROUNDS = 3


def side_by_side(a: Callable[[], dict], b: Callable[[], dict], rounds: int = ROUNDS) -> tuple[dict, dict]:
    """Run a and b `rounds` times, alternating which goes first (a b, b a, a b …); return the
    median of each figure for each side."""
    runs_a, runs_b = [], []
    for round_number in range(rounds):
        order = [(a, runs_a), (b, runs_b)] if round_number % 2 == 0 else [(b, runs_b), (a, runs_a)]
        for measure, runs in order:
            runs.append(measure())
    return median_of(runs_a), median_of(runs_b)


def median_of(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def timed(function: Callable[[], object], repeat: int = 9, warmup: int = 3) -> float:
    """Median seconds of `repeat` calls, after `warmup` calls (templates, URL resolvers and
    connections are made on the first ones)."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def in_subprocess(script: str, *args: str, env: dict | None = None) -> dict:
    """Run `python bench/SCRIPT ARGS` and read the JSON object it prints last."""
    answer = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, cwd=ROOT, check=False)
    if answer.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed:\n{answer.stdout[-2000:]}\n{answer.stderr[-4000:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


class Table:
    """Rows of (path, figure A, figure B, ratio B/A, goal, met?), printed and kept in results.md."""

    def __init__(self, title: str, settings: str):
        self.title, self.settings, self.rows = title, settings, []

    def add(self, path: str, label_a: str, a: float, label_b: str, b: float, unit: str = "ms",
            goal: float | None = None) -> float:
        ratio = b / a if a else float("inf")
        met = "" if goal is None else ("yes" if ratio <= goal else "no")
        self.rows.append((path, f"{label_a}: {fmt(a, unit)}", f"{label_b}: {fmt(b, unit)}", f"{ratio:.2f}x",
                          f"≤ {goal:g}x" if goal is not None else "", met))
        return ratio

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", self.settings, "",
                 "| Path | A | B | B / A | Goal | Met |", "|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"


def fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value * 1000:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:g} {unit}".strip()
