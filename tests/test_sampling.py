import json

from hpsearch.config import parse_config
from hpsearch.sampling import sample_trial, sample_trials
from hpsearch.yamlio import load

from .helpers import QUICKSTART, invoke


def quickstart():
    data, lines = load(QUICKSTART, "q.yaml")
    return parse_config(data, filename="q.yaml", lines=lines)


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
    trial = sample_trial(quickstart().space, 0, 0)
    assert isinstance(trial.seed, int) and 0 <= trial.seed < 2**32
    assert all(type(v) in (int, float) for v in trial.params.values())


def test_cli_sample_json_is_stable_across_counts(tmp_path):
    path = tmp_path / "quickstart.yaml"
    path.write_text(QUICKSTART)
    small = json.loads(invoke("sample", str(path), "-n", "10", "--json").stdout)
    large = json.loads(invoke("sample", str(path), "-n", "1000", "--json").stdout)
    assert len(large["trials"]) == 1000
    assert small["trials"] == large["trials"][:10]
    assert [t["trial"] for t in large["trials"]] == list(range(1000))
