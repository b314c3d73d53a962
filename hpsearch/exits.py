"""Every exit code hpsearch ends with, in one place (the README's table for CI).

| code | meaning |
| ---: | --- |
| 0 | done, with a best trial (that meets ``--fail-under``, if given) |
| 1 | no result: every trial failed, the best misses ``--fail-under``, or a command that works
      from a run's ok trials (zoom, retest, importance, train --from) found none |
| 2 | a config, data or usage error: one line on stderr |
| 128 + N | stopped by signal N: 130 Ctrl-C (SIGINT), 143 SIGTERM, 141 a closed output pipe |

``hpsearch watch RUN`` ends as the run it watches did: 0 complete (1 if no trial is ok), 130
(``CTRL_C``) interrupted (the run's own code was 128 + its signal, which the run directory
does not keep), 1 (``NO_RESULT``) when the run's driver is gone (killed: no result unless
resumed); its own Ctrl-C, SIGTERM or closed pipe are 130, 143, 141 as for any command.
"""

from __future__ import annotations

import signal

OK = 0
NO_RESULT = 1
USAGE = 2
CTRL_C = 128 + signal.SIGINT


def signalled(signum: int) -> int:
    """The shell's convention for a command stopped by signal ``signum``: 128 + it."""
    return 128 + signum
