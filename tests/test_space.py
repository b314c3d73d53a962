import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hpsearch.space import SCALES, ChoiceParam, NumericParam, Space

LOG = SCALES["log"]
LINEAR = SCALES["linear"]
ONE_MINUS_LOG = SCALES["one_minus_log"]


def draw(param, n=10_000, seed=0):
    u = np.random.default_rng(seed).random(n)
    return param.from_unit(u)


def two_apart(low, high, gap):
    """Two sorted numbers in [low, high] at least ``gap`` apart."""
    return (
        st.tuples(st.floats(low, high - gap), st.floats(gap, high - low))
        .map(lambda t: (t[0], min(t[0] + t[1], high)))
        .filter(lambda ab: ab[1] - ab[0] >= gap)
    )


@st.composite
def numeric_params(draw_):
    kind = draw_(st.sampled_from(["linear", "log", "one_minus_log", "int_linear", "int_log"]))
    if kind == "linear":
        a, b = draw_(two_apart(-1e6, 1e6, 1e-3))
        return NumericParam("x", LINEAR, a, b)
    if kind == "log":
        a, b = draw_(two_apart(-12, 6, 1e-3))
        return NumericParam("x", LOG, 10.0**a, 10.0**b)
    if kind == "one_minus_log":
        a, b = draw_(two_apart(-8, -0.01, 1e-3))
        return NumericParam("x", ONE_MINUS_LOG, 1 - 10.0**b, 1 - 10.0**a)
    a, b = sorted(draw_(st.lists(st.integers(1, 10_000), min_size=2, max_size=2, unique=True)))
    if kind == "int_linear":
        a, b = a - 5000, b - 5000
        return NumericParam("x", LINEAR, a, b, integer=True)
    return NumericParam("x", LOG, a, b, integer=True)


@given(numeric_params(), st.floats(0, 1))
def test_from_unit_stays_inside_bounds(param, u):
    value = param.from_unit(u)
    assert param.low <= value <= param.high
    if param.integer:
        assert isinstance(value, int)


@given(numeric_params(), st.floats(0, 1))
def test_to_unit_then_from_unit_round_trips(param, u):
    value = param.from_unit(u)
    back = param.from_unit(param.to_unit(value))
    if param.integer:
        assert back == value
    else:
        assert math.isclose(back, value, rel_tol=1e-9, abs_tol=1e-12 * (param.high - param.low))


@given(numeric_params())
def test_unit_coordinates_are_monotone_and_within_0_1(param):
    lo, hi = param.to_unit(param.low), param.to_unit(param.high)
    assert 0 <= lo < hi <= 1
    if not param.integer:
        assert math.isclose(lo, 0, abs_tol=1e-9) and math.isclose(hi, 1, abs_tol=1e-9)


@given(
    st.lists(
        st.one_of(st.integers(), st.text(max_size=5), st.booleans()),
        min_size=1,
        max_size=8,
        unique_by=lambda v: (type(v), v),
    ),
    st.floats(0, 1),
)
def test_choice_round_trips_and_keeps_true_apart_from_1(choices, u):
    p = ChoiceParam("c", tuple(choices))
    value = p.from_unit(u)
    assert p.contains(value)
    back = p.from_unit(p.to_unit(value))
    assert back == value and type(back) is type(value)


def test_log_scale_puts_a_quarter_of_samples_in_each_decade():
    values = draw(NumericParam("lr", LOG, 1e-4, 1.0))
    decades = np.floor(np.log10(values)).clip(-4, -1)
    for k in (-4, -3, -2, -1):
        share = np.mean(decades == k)
        assert abs(share - 0.25) <= 0.02, (k, share)


def test_one_minus_log_puts_half_the_samples_above_0_99():
    values = draw(NumericParam("beta", ONE_MINUS_LOG, 0.9, 0.999))
    assert values.min() >= 0.9 and values.max() <= 0.999
    assert abs(np.mean(values > 0.99) - 0.5) <= 0.02
    # r = log10(1 - beta) is uniform on [-3, -1]: each half-decade holds a quarter.
    r = np.log10(1 - values)
    for lo in (-3, -2.5, -2, -1.5):
        assert abs(np.mean((r >= lo) & (r < lo + 0.5)) - 0.25) <= 0.02


def test_linear_scale_is_uniform():
    values = draw(NumericParam("x", LINEAR, -2.0, 6.0))
    counts, _ = np.histogram(values, bins=4, range=(-2, 6))
    assert np.all(np.abs(counts / len(values) - 0.25) <= 0.02)


@pytest.mark.parametrize("scale", [LINEAR, LOG])
def test_integer_ranges_hit_both_ends_fairly(scale):
    param = NumericParam("units", scale, 16, 20, integer=True)
    values = draw(param)
    assert set(values.tolist()) == {16, 17, 18, 19, 20}
    if scale is LINEAR:
        counts = np.bincount(values - 16) / len(values)
        assert np.all(np.abs(counts - 0.2) <= 0.02), counts


def test_integer_log_scale_spreads_evenly_per_decade():
    values = draw(NumericParam("units", LOG, 10, 10_000, integer=True))
    assert values.min() == 10 and values.max() == 10_000
    for lo in (10, 100, 1000):
        assert abs(np.mean((values >= lo) & (values < lo * 10)) - 1 / 3) <= 0.03


def test_formatting_on_each_scale():
    assert NumericParam("lr", LOG, 1e-4, 1).format(0.0032) == "3.2e-03"
    assert NumericParam("b", ONE_MINUS_LOG, 0.9, 0.999).format(0.99873) == "0.9987"
    assert NumericParam("b", ONE_MINUS_LOG, 0.9, 0.999).format(0.95) == "0.950"
    assert NumericParam("n", LINEAR, 1, 9, integer=True).format(7) == "7"


def test_ticks_follow_the_scale():
    assert LOG.ticks(1e-4, 1.0) == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert ONE_MINUS_LOG.ticks(0.9, 0.999) == pytest.approx([0.9, 0.99, 0.999])


def test_space_sample_is_one_uniform_draw_per_parameter_in_order():
    space = Space((NumericParam("a", LINEAR, 0.0, 1.0), ChoiceParam("b", ("x", "y"))))
    rng = np.random.default_rng(3)
    u = np.random.default_rng(3).random(2)
    assert space.sample(rng) == {"a": u[0], "b": "x" if u[1] < 0.5 else "y"}


# -- ranges at the edge of floating point (issue 11, item 7) --------------------------------------


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("{scale: linear, min: -1.0e308, max: 1.0e308}", "max − min must be a finite number"),
        ("{scale: linear, min: -1.7e308, max: 1.0e308}", "max − min must be a finite number"),
        (
            "{scale: linear, min: 0, max: 1.0e300, type: int}",
            "within ±9007199254740992 (2^53, where floats stop counting every integer), got 1e+300",
        ),
    ],
)
def test_a_range_floats_cannot_span_is_refused(tmp_path, entry, fragment):
    from hpsearch.config import load_config
    from hpsearch.errors import ConfigError

    path = tmp_path / "wide.yaml"
    path.write_text(
        'objective: {python: "m:f"}\n'
        f"space:\n  x: {entry}\n"
        "search: {metric: loss, direction: minimize}\n"
    )
    with pytest.raises(ConfigError, match=re.escape(fragment)) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:3: space.x.")


@given(
    st.floats(-1e308, 1e308, allow_nan=False),
    st.floats(-1e308, 1e308, allow_nan=False),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20),
)
def test_every_accepted_linear_range_samples_inside_and_spreads(a, b, us):
    import math

    low, high = sorted((a, b))
    if not low < high or not math.isfinite(high - low):
        return  # refused by the config (above)
    p = NumericParam("x", SCALES["linear"], low, high)
    values = [p.from_unit(u) for u in us]
    assert all(low <= v <= high for v in values)
    if high - low > 1e-300 * max(1.0, abs(low)):
        assert p.from_unit(0.25) < p.from_unit(0.75)
