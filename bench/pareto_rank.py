"""Non-dominated sorting and crowding distances at 1,000 to 100,000 points.

    python bench/pareto_rank.py [--sizes 1000 10000 100000] [--objectives 2 3] [--repeats 3]

Points uniform in the unit cube (seed 0). Times `hpsearch.pareto.nondominated_ranks` and
`crowding_distances` (the median of ``--repeats``), and Optuna's own non-dominated sort
(`optuna.study._multi_objective._fast_non_domination_rank`) if Optuna is installed, whose
ranks are checked equal to ours; Optuna is timed once when a run of it takes over 5 s. Prints
a Markdown table. Target: 100,000 points × 3 objectives ranked in at most 2 s on 2 cores.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

from hpsearch.pareto import crowding_distances, nondominated_ranks

TARGET_SECONDS = 2.0


def timed(call: Callable[[], object], repeats: int, once_over: float = float("inf")) -> float:
    """The median wall time of ``repeats`` calls; of one if that one takes over ``once_over``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
        if times[0] > once_over:
            break
    return statistics.median(times)


def optuna_sort() -> Callable[[np.ndarray], np.ndarray] | None:
    try:
        from optuna.study._multi_objective import _fast_non_domination_rank
    except ImportError:
        return None
    return _fast_non_domination_rank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--objectives", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    theirs = optuna_sort()
    rng = np.random.default_rng(0)
    target = ""
    print(f"{platform.processor() or platform.machine()}, NumPy {np.__version__}\n")
    print("| points | objectives | fronts | ranks (ms) | crowding (ms) | Optuna's sort (ms) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in args.objectives:
        for n in args.sizes:
            values = rng.random((n, m))
            ranks = nondominated_ranks(values)
            rank_s = timed(lambda v=values: nondominated_ranks(v), args.repeats)
            crowd_s = timed(lambda v=values, r=ranks: crowding_distances(v, r), args.repeats)
            optuna = "–"
            if theirs is not None:
                assert np.array_equal(theirs(values) + 1, ranks), "the ranks differ from Optuna's"
                seconds = timed(lambda v=values: theirs(v), args.repeats, once_over=5.0)
                optuna = f"{seconds * 1e3:,.1f} ({seconds / rank_s:.1f}× ours)"
            print(
                f"| {n:,} | {m} | {ranks.max()} | {rank_s * 1e3:,.1f} | {crowd_s * 1e3:,.1f} "
                f"| {optuna} |",
                flush=True,
            )
            if n == 100_000 and m == 3:
                target = f"{rank_s:.2f} s, {rank_s / TARGET_SECONDS:.2f} of the 2 s target"
    if target:
        print(f"\n100,000 points × 3 objectives ranked in {target}.")


if __name__ == "__main__":
    main()
