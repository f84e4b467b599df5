"""The book's experiments as presets: each runs, flags override it, and it shows what its paragraph says."""

from __future__ import annotations

import json

import pytest

from linreg_tui.commands.main import main
from linreg_tui.run.config import parse_config, parse_field
from linreg_tui.run.presets import PRESETS, apply_preset
from linreg_tui.training.loop import train


@pytest.mark.parametrize("name", [name for name, preset in PRESETS.items() if not preset.sweep])
def test_every_preset_runs_headless_to_its_end(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # One epoch keeps it cheap; lr-too-high diverges within it (at step 85 of 100), as it should.
    code = main(["--headless", "--json", "--preset", name, "--epochs", "1"])
    data = json.loads(capsys.readouterr().out)
    expected = ("diverged", 3) if name == "lr-too-high" else ("finished", 0)
    assert (data["status"], code) == expected
    for field, text in PRESETS[name].values.items():
        if field != "epochs":
            value = parse_field(field, text)
            assert data["config"][field] == (list(value) if isinstance(value, tuple) else value), field


def test_the_data_size_sweep_shows_the_one_over_root_n_law(capsys: pytest.CaptureFixture[str]) -> None:
    # Cheaper than the preset: up to n = 1,000 (the larger n cost the most per step).
    assert main(["sweep", "--preset", "data-size", "--num-examples", "5,10,20,50,100,200,500,1000", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [run["config"]["num_examples"] for run in document["runs"]] == [5, 10, 20, 50, 100, 200, 500, 1000]
    assert -0.8 <= document["error_slope"] <= -0.2


def test_flags_given_with_a_preset_override_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--json", "--preset", "sum-reduction", "--lr", "0.03", "--epochs", "1"]) == 0
    config = json.loads(capsys.readouterr().out)["config"]
    assert (config["impl"], config["reduction"], config["lr"]) == ("concise", "sum", 0.03)


def test_a_bad_preset_name_is_refused_with_the_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--preset", "book-9.9"]) == 2
    assert main(["presets", "book-9.9"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]
    assert lines[0] == f"linreg-tui: invalid input: preset: 'book-9.9' is not a preset; allowed: {', '.join(PRESETS)}"


def test_presets_lists_each_in_a_line_and_describes_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(PRESETS)
    assert main(["presets", "outlier"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"outlier: {PRESETS['outlier'].summary}\nquestion: ")
    assert "look for: " in text and "values: --outlier 10000 --loss squared" in text
    assert text.endswith("run: linreg-tui --headless --preset outlier\n")


def run(name: str, **overrides: str) -> object:
    return train(parse_config({**apply_preset(name), **overrides}))


def test_weight_decay_shows_the_books_overfitting_and_its_cure() -> None:
    overfit, decayed = run("weight-decay", wd="0"), run("weight-decay")  # the preset's λ = 3
    assert overfit.epoch_losses[-1] < 1e-4 and overfit.val_losses[-1] > 10  # memorised 20 examples
    assert 1e-4 < decayed.epoch_losses[-1] < 1e-1 and decayed.val_losses[-1] < 1
    assert decayed.w_norm < overfit.w_norm / 10


def test_sum_reduction_takes_book_3_3s_steps_and_huber_shrugs_off_the_outlier() -> None:
    mean, summed = run("book-3.3", epochs="1"), run("sum-reduction", epochs="1")
    assert summed.w == pytest.approx(mean.w, abs=1e-6) and summed.b == pytest.approx(mean.b, abs=1e-6)
    squared, huber = run("outlier"), run("outlier", loss="huber")
    assert max(map(abs, squared.w_error)) > 1 and max(map(abs, huber.w_error)) < 0.2
