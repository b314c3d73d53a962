import copy
import json
import random

import numpy as np

from hpsearch.config import parse_config
from hpsearch.sampling import sample_trial, sample_trials, trial_stream

from .helpers import QUICKSTART, invoke


def quickstart():
    return parse_config(copy.deepcopy(QUICKSTART), filename="q.yaml")


def test_trial_i_is_the_same_whether_10_or_1000_trials_are_drawn():
    space = quickstart().space
    few = sample_trials(space, seed=0, count=10)
    many = sample_trials(space, seed=0, count=1000)
    assert few == many[:10]
    assert sample_trial(space, 0, 537) == many[537]


def test_order_of_drawing_does_not_matter():
    space = quickstart().space
    forward = sample_trials(space, 7, 50)
    backward = [sample_trial(space, 7, i) for i in reversed(range(50))][::-1]
    assert forward == backward


def test_different_seeds_and_indices_give_different_trials():
    space = quickstart().space
    a, b = sample_trials(space, 0, 20), sample_trials(space, 1, 20)
    assert all(x.params != y.params for x, y in zip(a, b, strict=True))
    assert len({t.seed for t in a + b}) == 40
    assert len({t.params["learning_rate"] for t in a}) == 20


def test_training_seed_is_an_int_apart_from_the_params_stream():
    space = quickstart().space
    trial = sample_trial(space, 0, 0)
    assert isinstance(trial.seed, int) and 0 <= trial.seed < 2**32
    assert all(type(v) in (int, float) for v in trial.params.values())
    for seed in (0, 7):
        for i in range(50):
            trial = sample_trial(space, seed, i)
            params, training = trial_stream(seed, i, 0), trial_stream(seed, i, 1)
            # The params come from the params stream alone, the seed from the training stream.
            assert trial.params == space.sample(np.random.default_rng(params))
            assert trial.seed == int(training.generate_state(1)[0])
            # ... and the two streams of a trial differ.
            assert not np.array_equal(params.generate_state(4), training.generate_state(4))


def test_every_trial_and_stream_has_random_numbers_of_its_own():
    states = {
        tuple(trial_stream(seed, i, k).generate_state(4))
        for seed in (0, 1)
        for i in range(500)
        for k in (0, 1)
    }
    assert len(states) == 2 * 500 * 2
    trials = sample_trials(quickstart().space, 0, 500)
    assert len({t.seed for t in trials}) == 500
    assert len({t.params["learning_rate"] for t in trials}) == 500


def test_a_trial_does_not_depend_on_which_or_how_many_others_are_drawn():
    space = quickstart().space
    everything = sample_trials(space, 3, 300)
    rng = random.Random(0)
    for _ in range(20):
        chosen = rng.sample(range(300), rng.randint(1, 30))  # a few trials, in any order
        assert [sample_trial(space, 3, i) for i in chosen] == [everything[i] for i in chosen]
    for start, count in ((0, 1), (17, 5), (150, 150), (299, 1)):
        assert sample_trials(space, 3, count, start=start) == everything[start : start + count]


def test_cli_sample_json_is_stable_across_counts(make_config):
    path = make_config(base=QUICKSTART)
    small = json.loads(invoke("sample", str(path), "-n", "10", "--json").stdout)
    large = json.loads(invoke("sample", str(path), "-n", "1000", "--json").stdout)
    assert len(large["trials"]) == 1000
    assert small["trials"] == large["trials"][:10]
    assert [t["trial"] for t in large["trials"]] == list(range(1000))
