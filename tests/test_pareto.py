"""Multi-objective ranking (hpsearch.pareto) against brute force and Optuna: non-dominated
fronts, their laws, crowding distances, hypervolumes and each point's share of one."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpsearch.pareto import (
    crowding_distances,
    hypervolume,
    hypervolume_contributions,
    nondominated_ranks,
)


@st.composite
def matrices(draw, max_n: int = 40, min_m: int = 1, max_m: int = 4, small: bool = False):
    """(n, m) arrays of small integers (ties and duplicate rows are common) or of floats.

    Hypothesis draws the shape and a seed and NumPy the cells: drawing cells one by one costs
    ten times more, and these tests share the suite's time budget.
    """
    n = draw(st.integers(0, max_n))
    m = draw(st.integers(min_m, max_m))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if small or draw(st.booleans()):
        return rng.integers(0, draw(st.integers(1, 4)), (n, m)).astype(float)
    return np.round(rng.uniform(-100, 100, (n, m)), draw(st.integers(0, 12)))


def dominance(values: np.ndarray) -> np.ndarray:
    """``d[i, j]``: row i dominates row j."""
    le = np.all(values[:, None, :] <= values[None, :, :], axis=2)
    lt = np.any(values[:, None, :] < values[None, :, :], axis=2)
    return le & lt


def peeled_ranks(values: np.ndarray) -> np.ndarray:
    """The fronts by definition: peel off the rows nothing left dominates, again and again."""
    dominates = dominance(values)
    ranks = np.zeros(len(values), dtype=int)
    left = np.ones(len(values), dtype=bool)
    rank = 0
    while left.any():
        rank += 1
        front = left & ~dominates[left].any(axis=0)
        ranks[front] = rank
        left &= ~front
    return ranks


def union_volume(points: np.ndarray, reference: np.ndarray) -> float:
    """Inclusion–exclusion over the points' boxes (a box outside the reference is empty)."""
    total = 0.0
    for size in range(1, len(points) + 1):
        for subset in itertools.combinations(points, size):
            corner = np.max(subset, axis=0)
            total += (-1) ** (size + 1) * np.prod(np.maximum(reference - corner, 0.0))
    return total


# Non-dominated ranks


@settings(max_examples=200)
@given(matrices())
def test_ranks_are_the_fronts_peeled_off_one_by_one(values):
    ranks = nondominated_ranks(values)
    assert ranks.dtype.kind == "i" and ranks.shape == (len(values),)
    assert np.array_equal(ranks, peeled_ranks(values))
    on_front = ~dominance(values).any(axis=0)
    assert np.array_equal(ranks == 1, on_front)


@settings(max_examples=100)
@given(matrices(min_m=2), st.randoms(use_true_random=False))
def test_shuffling_the_rows_shuffles_the_ranks(values, random):
    order = list(range(len(values)))
    random.shuffle(order)
    assert np.array_equal(nondominated_ranks(values[order]), nondominated_ranks(values)[order])


@settings(max_examples=100)
@given(
    matrices(small=True),
    st.lists(st.sampled_from([0.125, 0.5, 1.0, 3.0, 1024.0]), min_size=4, max_size=4),
    st.lists(st.integers(-1000, 1000), min_size=4, max_size=4),
)
def test_a_positive_scale_or_a_shift_of_an_objective_keeps_the_ranks(values, scales, shifts):
    m = values.shape[1]
    moved = values * np.array(scales[:m]) + np.array(shifts[:m], dtype=float)  # exact
    assert np.array_equal(nondominated_ranks(moved), nondominated_ranks(values))


def test_ranks_by_hand():
    values = np.array([[1, 4], [2, 2], [4, 1], [2, 2], [3, 3], [4, 4], [5, 5], [0, 6]])
    assert nondominated_ranks(values).tolist() == [1, 1, 1, 1, 2, 3, 4, 1]
    assert nondominated_ranks(np.array([[3.0], [1.0], [3.0], [2.0]])).tolist() == [3, 1, 3, 2]
    assert nondominated_ranks(np.empty((0, 3))).tolist() == []
    chain = np.arange(30.0).reshape(10, 3)
    assert nondominated_ranks(chain[::-1]).tolist() == list(range(10, 0, -1))


def test_large_fronts_match_peeling():
    rng = np.random.default_rng(7)
    for m in (2, 3, 4, 5):
        values = rng.random((300, m))
        assert np.array_equal(nondominated_ranks(values), peeled_ranks(values))
        grid = rng.integers(0, 5, (300, m)).astype(float)
        assert np.array_equal(nondominated_ranks(grid), peeled_ranks(grid))


@pytest.mark.parametrize(
    "values", [np.zeros(3), np.zeros((3, 0)), np.array([[0.0, np.nan]]), [[np.inf, 1.0]]]
)
def test_ranks_refuse_what_is_not_a_finite_matrix(values):
    with pytest.raises(ValueError):
        nondominated_ranks(values)


# Crowding distances


def test_crowding_by_hand():
    values = np.array([[0, 4], [1, 2], [3, 1], [4, 0], [5, 5], [6, 6], [7, 7], [9, 9]], float)
    ranks = np.array([1, 1, 1, 1, 2, 2, 3, 4])
    distances = crowding_distances(values, ranks)
    # (1, 2): (3 - 0) / 4 on f1, (4 - 1) / 4 on f2; (3, 1): (4 - 1) / 4 and (2 - 0) / 4
    assert distances[:4].tolist() == [np.inf, 1.5, 1.25, np.inf]
    assert np.all(np.isinf(distances[4:]))  # fronts of two and of one


def test_crowding_of_equal_values_is_deterministic():
    values = np.array([[1.0, 1.0]] * 4)
    distances = crowding_distances(values, np.ones(4, dtype=int))
    assert distances.tolist() == [np.inf, 0.0, 0.0, np.inf]
    assert np.array_equal(crowding_distances(values, np.ones(4, dtype=int)), distances)
    assert crowding_distances(np.empty((0, 2)), np.empty(0, dtype=int)).tolist() == []
    with pytest.raises(ValueError):
        crowding_distances(values, np.ones(3, dtype=int))


@settings(max_examples=100)
@given(matrices(max_m=3))
def test_crowding_puts_each_fronts_extremes_at_infinity(values):
    ranks = nondominated_ranks(values)
    distances = crowding_distances(values, ranks)
    assert distances.shape == (len(values),) and np.all(distances >= 0)
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        if len(members) <= 2:
            assert np.all(np.isinf(distances[members]))
            continue
        finite = np.isfinite(distances[members])
        assert np.all(distances[members][finite] <= values.shape[1] * 1.0000001)
        for column in values[members].T:
            assert np.isinf(distances[members][column == column.min()]).any()
            assert np.isinf(distances[members][column == column.max()]).any()


# Hypervolume


def test_hypervolume_by_hand():
    staircase = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    assert hypervolume(staircase, np.array([4.0, 4.0])) == 6.0
    assert hypervolume(np.zeros((1, 3)), np.array([1.0, 2.0, 3.0])) == 6.0
    # boxes of 4 and 2 that share a unit cube
    two = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    assert hypervolume(two, np.full(3, 2.0)) == 5.0
    assert hypervolume(np.array([[0.5]]), np.array([2.0])) == 1.5
    assert hypervolume(np.empty((0, 4)), np.ones(4)) == 0.0
    assert hypervolume(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, 2.0])) == 0.0
    with pytest.raises(ValueError):
        hypervolume(staircase, np.array([4.0, 4.0, 4.0]))


@settings(max_examples=150)
@given(matrices(max_n=6, max_m=5), st.integers(-1, 3))
def test_hypervolume_is_the_volume_of_the_union_of_boxes(points, shift):
    reference = np.full(points.shape[1], float(shift))
    if points.size and np.abs(points).max() > 3:
        reference = np.percentile(points, 70, axis=0)
    expected = union_volume(points, reference)
    assert hypervolume(points, reference) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.slow  # imports Optuna
@settings(max_examples=50)
@given(matrices(max_n=30, min_m=2, max_m=4), st.floats(0.5, 3.0))
def test_hypervolume_is_optunas(points, margin):
    hv = pytest.importorskip("optuna._hypervolume")
    reference = (points.max(axis=0) if len(points) else np.zeros(points.shape[1])) + margin
    reference[0] -= 2 * margin  # some points fall outside: Optuna is given the others only
    inside = points[np.all(points < reference, axis=1)]
    expected = hv.compute_hypervolume(inside, reference) if len(inside) else 0.0
    assert hypervolume(points, reference) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=100)
@given(matrices(max_n=20, max_m=4), matrices(max_n=1, max_m=4), st.floats(2.0, 10.0))
def test_a_point_never_lowers_the_hypervolume_and_one_outside_adds_nothing(points, more, beyond):
    m = points.shape[1]
    reference = np.full(m, 2.0)
    before = hypervolume(points, reference)
    point = np.resize(more.ravel(), m) if more.size else np.zeros(m)
    assert hypervolume(np.vstack([points, point]), reference) >= before * (1 - 1e-12)
    point[len(points) % m] = beyond
    assert hypervolume(np.vstack([points, point]), reference) == before


# Contributions


def exclusive(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """By definition: the hypervolume less that without each point."""
    total = hypervolume(points, reference)
    return np.array(
        [total - hypervolume(np.delete(points, i, 0), reference) for i in range(len(points))]
    )


@settings(max_examples=100)
@given(matrices(max_n=10, min_m=1, max_m=4))
def test_contributions_are_each_points_exclusive_volume(points):
    reference = np.full(points.shape[1], 2.5)
    contributions = hypervolume_contributions(points, reference)
    assert contributions.shape == (len(points),) and np.all(contributions >= 0)
    assert contributions.sum() <= hypervolume(points, reference) * (1 + 1e-9) + 1e-12
    assert contributions == pytest.approx(exclusive(points, reference), rel=1e-9, abs=1e-9)
    dominated = nondominated_ranks(points) > 1 if len(points) else np.zeros(0, dtype=bool)
    assert np.all(contributions[dominated] == 0)


def test_contributions_by_hand():
    points = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [2.5, 2.5], [1.0, 3.0], [0.5, 5.0]])
    contributions = hypervolume_contributions(points, np.array([4.0, 4.0]))
    # (2, 2): its 1 × 1 square less the quarter (2.5, 2.5) covers; (3, 1): 1 × 1;
    # a duplicate, a dominated point, one outside the reference
    assert contributions.tolist() == [0.0, 0.75, 1.0, 0.0, 0.0, 0.0]
    rng = np.random.default_rng(3)
    front = rng.random((200, 2))
    reference = np.array([1.1, 1.2])
    fast = hypervolume_contributions(front, reference)
    assert fast == pytest.approx(exclusive(front, reference), rel=1e-9, abs=1e-12)
