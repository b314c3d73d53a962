"""A Python objective for hpsearch: Branin's function, with a fake learning curve.

hpsearch calls ``branin(params, seed, report=...)`` once per trial and minimises the value it
returns. ``report(epoch, **metrics)`` is optional: it records a learning curve, and a NaN or
infinite value reported there stops the trial as ``diverged``.
"""

import math


def branin(params: dict, seed: int, report=None) -> dict:
    x1, x2 = params["x1"], params["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    value = (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10
    if report is not None:
        for epoch in range(1, params.get("epochs", 5) + 1):
            report(epoch, loss=value * (1 + 1 / epoch))
    return {"loss": value, "distance": math.hypot(x1 - math.pi, x2 - 2.275)}
