"""Run a bench script with a variant of the search, for design experiments (issue 24).

    python bench/variants.py VARIANT bench/hpobench.py --seeds 10
    python bench/variants.py VARIANT bench/search_quality.py --held-out --seeds 20

Variants (each patches one private function of the search; never used by hpsearch itself):

- ``keep-choices``: the budget strategy's trust region never narrows a choice parameter (every
  value stays drawn uniformly in every round), against today's (the values its anchors use).
- ``choice-floor``: the trust region draws the anchors' values about 3 times in 4 and every
  other value of a choice the rest (a floor probability, emulated by repeating values).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any


def keep_choices() -> None:
    import hpsearch.narrowing as narrowing

    original = narrowing._zoom_choice

    def whole_in_trust_regions(q: Any, values: Any, label: str) -> tuple[Any, str]:
        if label == "":  # trust_region's call (zoom_region names its anchors)
            return q, "kept"
        return original(q, values, label)

    narrowing._zoom_choice = whole_in_trust_regions


def choice_floor() -> None:
    import math

    import hpsearch.narrowing as narrowing
    from hpsearch.space import ChoiceParam

    original = narrowing._zoom_choice

    def weighted_in_trust_regions(q: Any, values: Any, label: str) -> tuple[Any, str]:
        if label != "":
            return original(q, values, label)
        kept, _ = original(q, values, label)
        used = kept.choices if isinstance(kept, ChoiceParam) else (kept,)
        others = [c for c in q.choices if c not in used]
        if not others:
            return q, "kept"
        # The anchors' values about 3 draws in 4, every other value the rest (a value
        # repeated in the tuple is drawn that much more often).
        repeat = math.ceil(3 * len(others) / len(used))
        return ChoiceParam(q.name, tuple(used) * repeat + tuple(others)), "floor"

    narrowing._zoom_choice = weighted_in_trust_regions


VARIANTS = {"keep-choices": keep_choices, "choice-floor": choice_floor}


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in VARIANTS:
        raise SystemExit(f"usage: variants.py {{{','.join(VARIANTS)}}} SCRIPT [ARGS...]")
    VARIANTS[sys.argv[1]]()  # patched before the bench's worker processes fork
    script = sys.argv[2]
    sys.argv = sys.argv[2:]
    sys.path.insert(0, str(Path(script).resolve().parent))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
