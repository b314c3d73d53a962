"""Ranking points on several objectives: non-dominated fronts, crowding, hypervolume.

Plain arrays in, arrays out: a row is a point, a column an objective, and every objective is
minimised (a caller negates a metric it maximises). ``a`` dominates ``b`` when it is no worse
in every objective and better in one; equal rows never dominate each other.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

__all__ = [
    "crowding_distances",
    "hypervolume",
    "hypervolume_contributions",
    "nondominated_ranks",
]


def nondominated_ranks(values: np.ndarray) -> np.ndarray:
    """Each row's front: 1 for the non-dominated rows, 2 for those of the rest, and so on.

    ``values`` has shape (n, m), m ≥ 1, finite. NSGA-II's non-dominated sorting without its
    n² comparisons: sort-based (ENS-BS, Zhang et al. 2015), about n log n for m ≤ 3.
    """
    points = _matrix(values, "values")
    n, m = points.shape
    ranks = np.zeros(n, dtype=np.int64)
    if n == 0:
        return ranks
    unique, order, group = _unique_lexsorted(points)
    if m == 1:
        fronts = np.arange(1, len(unique) + 1, dtype=np.int64)
    elif m == 2:
        fronts = _ranks_2d(unique)
    elif m == 3:
        fronts = _ranks_3d(unique)
    else:
        fronts = _ranks_nd(unique)
    ranks[order] = fronts[group]
    return ranks


def crowding_distances(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each row within its front (rows of equal ``ranks``).

    Per objective, a row gets the gap between its neighbours in the front over the front's
    range; the lowest and highest row of each objective get ``inf`` (of equal values, the
    first and last row), so fronts of one or two rows are all ``inf``.
    """
    points = _matrix(values, "values")
    fronts = np.asarray(ranks)
    if fronts.shape != (len(points),):
        raise ValueError(f"ranks must have shape ({len(points)},), got {fronts.shape}")
    n, m = points.shape
    distance = np.zeros(n)
    if n == 0:
        return distance
    for j in range(m):
        # One stable sort for every front at once: by front, then by the objective.
        order = np.lexsort((points[:, j], fronts))
        x, front = points[order, j], fronts[order]
        first = np.ones(n, dtype=bool)
        first[1:] = front[1:] != front[:-1]
        last = np.ones(n, dtype=bool)
        last[:-1] = first[1:]
        group = np.cumsum(first) - 1
        span = (x[last] - x[first])[group]
        gap = np.zeros(n)
        gap[1:-1] = x[2:] - x[:-2]
        share = np.divide(gap, span, out=np.zeros(n), where=span > 0)
        share[first | last] = np.inf
        distance[order] += share
    return distance


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """The volume dominated by ``points`` and bounded by ``reference`` (exact).

    A point that is not strictly better than the reference in every objective adds nothing.
    About n log n for m ≤ 3; for m ≥ 4 slices along the last objective, for tens of points.
    """
    pts, ref = _problem(points, reference)
    inside = pts[np.all(pts < ref, axis=1)]
    unique = _unique_lexsorted(inside)[0]
    return _hv(unique[_front_mask(unique)], ref)


def hypervolume_contributions(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each point's exclusive hypervolume: that of all the points less that without it.

    A dominated point, a point outside the reference and a point with a duplicate get 0.
    O(n log n) for m = 2; otherwise one hypervolume per point of the front.
    """
    pts, ref = _problem(points, reference)
    result = np.zeros(len(pts))
    inside = np.flatnonzero(np.all(pts < ref, axis=1))
    if inside.size == 0:
        return result
    unique, order, group = _unique_lexsorted(pts[inside])
    on_front = _front_mask(unique)
    if ref.size == 2:
        exclusive = _contributions_2d(unique[on_front], unique[~on_front], ref)
    else:
        exclusive = np.array(
            [_exclusive(unique, k, ref) for k in np.flatnonzero(on_front).tolist()]
        )
    per_unique = np.zeros(len(unique))
    per_unique[on_front] = np.maximum(exclusive, 0.0)
    per_unique[np.bincount(group) > 1] = 0.0
    result[inside[order]] = per_unique[group]
    return result


def _matrix(values: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 2 or array.shape[1] < 1:
        raise ValueError(f"{name} must have shape (points, objectives), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array


def _problem(points: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pts = _matrix(points, "points")
    ref = np.asarray(reference, dtype=float)
    if ref.shape != (pts.shape[1],):
        raise ValueError(f"reference must have shape ({pts.shape[1]},), got {ref.shape}")
    if not np.all(np.isfinite(ref)):
        raise ValueError("reference must be finite")
    return pts, ref


def _unique_lexsorted(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct rows in lexicographic order, the sorting permutation of ``points``, and
    for each sorted row its index among the distinct ones."""
    order = np.lexsort(points.T[::-1])
    rows = points[order]
    new = np.ones(len(rows), dtype=bool)
    new[1:] = np.any(rows[1:] != rows[:-1], axis=1)
    return rows[new], order, np.cumsum(new) - 1


# The _ranks_* functions take distinct rows in lexicographic order: a row can be dominated
# only by one before it, and one before it that is no worse in objectives 2…m dominates it.


def _ranks_2d(unique: np.ndarray) -> np.ndarray:
    lowest: list[float] = []  # each front's lowest f2 so far: ascending from front 1
    fronts = np.empty(len(unique), dtype=np.int64)
    for i, y in enumerate(unique[:, 1].tolist()):
        k = bisect_right(lowest, y)  # the first front with nothing at or below y
        if k == len(lowest):
            lowest.append(y)
        else:
            lowest[k] = y
        fronts[i] = k + 1
    return fronts


def _ranks_3d(unique: np.ndarray) -> np.ndarray:
    """Each front keeps the staircase of its rows' (f2, f3): f2 ascending, f3 descending
    (stored negated, so both lists ascend); a row's front is found by binary search over the
    fronts, as one dominated by front k is dominated by every front before it (ENS-BS)."""
    xs_of: list[list[float]] = []
    ys_of: list[list[float]] = []
    fronts = np.empty(len(unique), dtype=np.int64)
    for i, (x, y) in enumerate(unique[:, 1:].tolist()):
        lo, hi = 0, len(xs_of)
        while lo < hi:
            mid = (lo + hi) // 2
            at = bisect_right(xs_of[mid], x)
            if at and -ys_of[mid][at - 1] <= y:
                lo = mid + 1
            else:
                hi = mid
        if lo == len(xs_of):
            xs_of.append([x])
            ys_of.append([-y])
        else:
            xs, ys = xs_of[lo], ys_of[lo]
            at = bisect_right(xs, x)
            end = bisect_right(ys, -y, at)  # the steps after it that it covers
            xs[at:end] = [x]
            ys[at:end] = [-y]
        fronts[i] = lo + 1
    return fronts


def _ranks_nd(unique: np.ndarray) -> np.ndarray:
    """As ``_ranks_3d``, with each front's rows (objectives 2…m) in growing columns, compared
    with a row all at once."""
    rows = unique[:, 1:].tolist()
    columns: list[np.ndarray] = []
    sizes: list[int] = []
    fronts = np.empty(len(unique), dtype=np.int64)
    for i, row in enumerate(rows):
        lo, hi = 0, len(columns)
        while lo < hi:
            mid = (lo + hi) // 2
            front = columns[mid][:, : sizes[mid]]
            covered = front[0] <= row[0]
            for j in range(1, len(row)):
                covered &= front[j] <= row[j]
            if covered.any():
                lo = mid + 1
            else:
                hi = mid
        if lo == len(columns):
            columns.append(np.empty((len(row), 8)))
            sizes.append(0)
        size = sizes[lo]
        if size == columns[lo].shape[1]:
            columns[lo] = np.concatenate([columns[lo], np.empty_like(columns[lo])], axis=1)
        columns[lo][:, size] = row
        sizes[lo] = size + 1
        fronts[i] = lo + 1
    return fronts


def _front_mask(unique: np.ndarray) -> np.ndarray:
    """Which of the distinct, lexicographically sorted rows are non-dominated."""
    n, m = unique.shape
    if n == 0 or m == 1:
        return np.arange(n) == 0
    if m == 2:
        mask = np.ones(n, dtype=bool)
        mask[1:] = unique[1:, 1] < np.minimum.accumulate(unique[:-1, 1])
        return mask
    if m == 3:
        return _ranks_3d(unique) == 1
    mask = np.zeros(n, dtype=bool)
    rest = unique[:, 1:]
    left = np.arange(n)
    while left.size:
        # The first row left is dominated by nothing; drop the rows it dominates.
        mask[left[0]] = True
        left = left[np.any(rest[left] < rest[left[0]], axis=1)]
    return mask


def _hv(front: np.ndarray, ref: np.ndarray) -> float:
    """The hypervolume of distinct, non-dominated points strictly inside ``ref``."""
    n, m = front.shape
    if n == 0:
        return 0.0
    if m == 1:
        return float(ref[0] - front[:, 0].min())
    if m == 2:
        return _hv_2d(front, ref)
    if m == 3:
        return _hv_3d(front, ref)
    # Slices between successive values of the last objective: each is an (m-1)-volume.
    order = np.argsort(front[:, -1], kind="stable")
    z = np.append(front[order, -1], ref[-1])
    total = 0.0
    for i in range(n):
        if z[i + 1] > z[i]:
            unique = _unique_lexsorted(front[order[: i + 1], :-1])[0]
            total += (z[i + 1] - z[i]) * _hv(unique[_front_mask(unique)], ref[:-1])
    return total


def _hv_2d(front: np.ndarray, ref: np.ndarray) -> float:
    sorted_ = front[np.argsort(front[:, 0], kind="stable")]  # y then descends
    widths = np.append(sorted_[1:, 0], ref[0]) - sorted_[:, 0]
    return float(np.sum(widths * (ref[1] - sorted_[:, 1])))


def _hv_3d(front: np.ndarray, ref: np.ndarray) -> float:
    """Sweeps up the third objective, keeping the area dominated in the first two (a
    staircase: x ascending, y descending) as each point is added."""
    rx, ry, rz = ref.tolist()
    rows = front[np.argsort(front[:, 2], kind="stable")].tolist()
    xs: list[float] = []
    ys: list[float] = []
    area = total = 0.0
    for k, (x, y, z) in enumerate(rows):
        at = bisect_right(xs, x)
        if not (at and ys[at - 1] <= y):
            height = ys[at - 1] if at else ry
            start, end = x, at
            while end < len(xs) and ys[end] >= y:  # steps the new point covers
                area += (xs[end] - start) * (height - y)
                start, height = xs[end], ys[end]
                end += 1
            area += ((xs[end] if end < len(xs) else rx) - start) * (height - y)
            xs[at:end] = [x]
            ys[at:end] = [y]
        total += area * ((rows[k + 1][2] if k + 1 < len(rows) else rz) - z)
    return total


def _exclusive(unique: np.ndarray, k: int, ref: np.ndarray) -> float:
    """Row k's box less the part of it the other rows cover (WFG's limited set)."""
    row = unique[k]
    limited = _unique_lexsorted(np.maximum(np.delete(unique, k, 0), row))[0]
    return float(np.prod(ref - row)) - _hv(limited[_front_mask(limited)], ref)


def _contributions_2d(front: np.ndarray, others: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Front point i (x ascending) owns the rectangle up to its neighbours' x and y, less what
    the dominated points in it cover. Each dominated point can only be in the rectangle of
    the front point just left of it, and each rectangle lies below the ones before it, so
    one running minimum finds the staircase of every rectangle at once."""
    xs = front[:, 0]
    right = np.append(xs[1:], ref[0])
    above = np.insert(front[:-1, 1], 0, ref[1])
    exclusive = (right - xs) * (above - front[:, 1])
    owner = np.searchsorted(xs, others[:, 0], side="right") - 1
    near = others[(owner >= 0) & (others[:, 1] < above[np.maximum(owner, 0)])]
    if len(near):
        near = near[np.lexsort((near[:, 1], near[:, 0]))]
        steps = np.ones(len(near), dtype=bool)
        steps[1:] = near[1:, 1] < np.minimum.accumulate(near[:-1, 1])
        near = near[steps]
        owner = np.searchsorted(xs, near[:, 0], side="right") - 1
        same = np.append(owner[1:] == owner[:-1], False)
        until = np.where(same, np.append(near[1:, 0], 0.0), right[owner])
        covered = (until - near[:, 0]) * (above[owner] - near[:, 1])
        exclusive -= np.bincount(owner, weights=covered, minlength=len(front))
    return exclusive
