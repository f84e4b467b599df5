"""Parsing and validation of the run configuration: every field, with the reason the user reads."""

from __future__ import annotations

import dataclasses

import pytest

from linreg_tui.commands.common import attach_flag_values, config_texts
from linreg_tui.commands.train import build_parser
from linreg_tui.run.config import FIELDS, ConfigError, RunConfig, parse_config
from linreg_tui.run.memory import MemoryEstimate, check_memory, estimate_memory
from linreg_tui.run.optimizers import OPTIMIZERS, SCHEDULES, training_applies
from linreg_tui.run.parsing import Real, Refused
from linreg_tui.run.sources import ONLY_FOR, applies


def test_defaults_are_the_books() -> None:
    config = RunConfig()
    assert config.true_w == (2.0, -3.4)
    assert (config.true_b, config.num_examples, config.noise) == (4.2, 1000, 0.01)
    assert (config.batch_size, config.lr, config.epochs, config.impl) == (10, 0.03, 3, "scratch")


def test_texts_round_trip() -> None:
    config = RunConfig(true_w=(1.5, -2.0, 0.25), seed=7, impl="concise")
    assert parse_config(config.as_texts()) == config
    assert config.as_texts()["true_w"] == "1.5, -2, 0.25"


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ({"true_w": "[2, -3.4]"}, {"true_w": (2.0, -3.4)}),
        ({"true_w": " 7 "}, {"true_w": (7.0,)}),
        ({"num_examples": "1e6", "batch_size": "1_000"}, {"num_examples": 1_000_000, "batch_size": 1000}),
        ({"device": "CUDA:1"}, {"device": "cuda:1"}),
        ({"impl": " Concise "}, {"impl": "concise"}),
        ({"noise": "0"}, {"noise": 0.0}),
    ],
)
def test_accepted_spellings(texts: dict[str, str], expected: dict[str, object]) -> None:
    config = parse_config(texts)
    for name, value in expected.items():
        assert getattr(config, name) == value


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("true_w", "", "true w: '' is empty"),
        ("true_w", "2;-3.4", "entry 1 ('2;-3.4') is not a number; enter numbers separated by commas"),
        ("true_w", "2,,3", "empty entry at position 2"),
        ("true_w", "2, nan", "entry 2 ('nan') is not a number (nan)"),
        ("true_w", "1e7", "entry 1 ('1e7') is out of range (allowed: from -1e6 to 1e6)"),
        ("true_b", "four", "true b: 'four' is not a number"),
        ("true_b", "inf", "is infinite or overflows"),
        ("num_examples", "10.5", "examples: '10.5' is a fraction"),
        ("num_examples", "0", "is out of range; enter a whole number from 1"),
        ("noise", "-1", "noise: '-1' is out of range (allowed: from 0 to 1e6)"),
        ("lr", "0", "learning rate: '0' is out of range (allowed: greater than 0 to 1e6)"),
        ("lr", "1e999", "is infinite or overflows"),
        ("epochs", "nan", "epochs: 'nan' is not a whole number"),
        ("impl", "keras", "implementation: 'keras' is not an implementation; allowed: scratch, concise, fast"),
        ("device", "gpu", "device: 'gpu' is not a device; allowed: cpu, cuda, cuda:N"),
        ("seed", "-3", "seed: '-3' is out of range"),
    ],
)
def test_refusals_name_the_field_the_value_and_what_is_allowed(field: str, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({field: text})
    assert [e.field for e in caught.value.errors] == [field]
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        # lr's range excludes 0: what is offered instead of a number too small to hold must not be 0.
        ("lr", "1e-400", "(it would become 0, and 0 is not allowed); enter at least 1.4e-45 (allowed: greater than 0"),
        ("noise", "1e-400", "is too small to hold as a number (it would become 0); enter 0 or at least 1.4e-45"),
        ("true_b", "-1e-400", "would become 0); enter 0 or a number at least 1.4e-45 in size (allowed: from -1e6"),
        ("lr", "1e-50", "'1e-50' is 0 in float32, the type the data and the model are computed in; enter at least"),
        ("true_b", "-1e-50", "is 0 in float32, the type the data and the model are computed in; enter 0 or a number"),
    ],
)
def test_a_number_too_small_to_hold_is_told_what_is_allowed_instead(field: str, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({field: text})
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("real", "text", "instead"),
    [
        (Real(0.0, 1.0, low_open=True), "1e-400", "(it would become 0, and 0 is not allowed); enter at least 1.4e-45"),
        (Real(0.0, 1.0), "1e-400", "(it would become 0); enter 0 or at least 1.4e-45"),
        (Real(-1.0, 0.0, high_open=True), "-1e-400", "and 0 is not allowed); enter at most -1.4e-45"),
        (Real(-1.0, 1.0), "-1e-400", "(it would become 0); enter 0 or a number at least 1.4e-45 in size"),
        (Real(-1.0, 0.0, high_open=True), "-1e-50", "computed in; enter at most -1.4e-45"),
    ],
)
def test_what_is_offered_instead_of_a_tiny_number_is_inside_the_range(real: Real, text: str, instead: str) -> None:
    with pytest.raises(Refused) as caught:
        real(text)
    assert instead in caught.value.reason


def test_a_tiny_number_for_a_range_away_from_0_is_out_of_range() -> None:
    with pytest.raises(Refused, match=r"is out of range \(allowed: from 1 to 2\)"):
        Real(1.0, 2.0)("1e-400")


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"lr": "x", "epochs": "y", "seed": "z"})
    assert [e.field for e in caught.value.errors] == ["lr", "epochs", "seed"]


def test_batch_larger_than_data_is_refused() -> None:
    with pytest.raises(ConfigError, match="batch size: '50' is larger than the number of examples"):
        parse_config({"num_examples": "20", "batch_size": "50"})


def test_memory_estimate_refuses_what_cannot_fit() -> None:
    config = RunConfig(num_examples=10**9, true_w=(1.0,) * 50)
    estimate = estimate_memory(config, on_cuda=False)
    assert estimate.host_bytes > 4 * 10**9 * 51
    with pytest.raises(ConfigError, match=r"examples: .*needs about .* of RAM, more than fits"):
        check_memory(config, estimate, host_free=16 * 2**30, device_free=None)
    small = estimate_memory(RunConfig(), on_cuda=False)
    check_memory(RunConfig(), small, host_free=16 * 2**30, device_free=None)


def test_memory_estimate_counts_the_device_on_cuda() -> None:
    estimate = estimate_memory(RunConfig(num_examples=10**8), on_cuda=True)
    assert estimate.device_bytes > 10**9
    with pytest.raises(ConfigError, match="on the device"):
        check_memory(RunConfig(num_examples=10**8), estimate, host_free=2**40, device_free=2**30)
    assert MemoryEstimate(10, 0).describe() == "needs about 10 B of RAM"


@pytest.fixture(scope="module")
def a_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("data") / "table.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i * i % 7},{2 * i + 1}\n" for i in range(20)))
    return str(path)


def source_for(name: str, a_file: str) -> str:
    """A source whose data the field applies to: synthetic where it can be."""
    kind = next(kind for kind in ("synthetic", "table", "poly", "file") if kind in ONLY_FOR.get(name, (kind,)))
    return {"synthetic": "synthetic", "table": "airfoil", "poly": "poly", "file": a_file}[kind]


def training_for(name: str) -> dict[str, str]:
    """An optimizer and a schedule the field applies to (sgd and constant where it can be)."""
    optimizer, schedule = next(
        (optimizer, schedule)
        for optimizer in OPTIMIZERS
        for schedule in SCHEDULES
        if training_applies(name, optimizer, schedule)
    )
    return {"optimizer": optimizer} if optimizer == "adadelta" else {"optimizer": optimizer, "schedule": schedule}


@pytest.mark.parametrize("name", list(FIELDS))
def test_every_field_of_the_table_reaches_the_flags_the_json_and_the_refusals(name: str, a_file: str) -> None:
    """Walks the one table: a field added there is a flag with its help, a JSON key, a text that reads
    back, and a refusal that names it; nothing else has to be edited. Each field is tried with data it
    applies to (a file's columns with a file, the degree with poly)."""
    field = FIELDS[name]
    source = {"data": source_for(name, a_file), **training_for(name)}
    source.pop(name, None)
    base = parse_config(source)
    default = getattr(base, name)
    parser = build_parser()
    option = next(action for action in parser._actions if action.dest == name)
    assert option.option_strings == [field.flag]
    assert field.help in " ".join(parser.format_help().split())  # what it means, as --help prints it
    args = parser.parse_args(attach_flag_values([field.flag, field.show(default)]))
    assert parse_config({**source, **config_texts(args)}) == base
    assert name in base.as_dict()
    assert parse_config({**source, name: base.as_texts()[name]}) == base
    with pytest.raises(ConfigError) as caught:
        parse_config({**source, name: "?"})
    assert str(caught.value).startswith(f"{field.label}: '?' ")
    assert [error.field for error in caught.value.errors] == [name]


@pytest.mark.parametrize("name", [name for name in FIELDS if name in ONLY_FOR])
def test_a_field_given_for_data_it_does_not_apply_to_is_refused_naming_it(name: str, a_file: str) -> None:
    other = next(source for source in ("synthetic", "airfoil", "poly", a_file) if not applies(name, source))
    text = parse_config({"data": source_for(name, a_file)}).as_texts()[name]
    with pytest.raises(ConfigError) as caught:
        parse_config({"data": other, name: text})
    assert [error.field for error in caught.value.errors] == [name]
    assert "does not apply to data from" in str(caught.value) and "allowed with data" in str(caught.value)


def test_the_table_is_the_dataclass_in_form_order() -> None:
    assert list(FIELDS) == [spec.name for spec in dataclasses.fields(RunConfig)]
    assert len({field.flag for field in FIELDS.values()}) == len(FIELDS)
    assert len({field.label for field in FIELDS.values()}) == len(FIELDS)
