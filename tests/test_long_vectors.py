"""Long weight vectors (the weight-decay section's 200 weights): `v*k` in the form, the flags and the
reproduce line, and a bounded printed report."""

from __future__ import annotations

import pytest

from linreg_tui.run.config import FIELDS, ConfigError, parse_config
from linreg_tui.run.report import format_vector


def test_repeat_reads_as_copies_and_is_written_back_the_same_way() -> None:
    config = parse_config({"true_w": "2, 0.01*200, -3.4"})
    assert config.true_w == (2.0, *[0.01] * 200, -3.4)
    shown = FIELDS["true_w"].show(config.true_w)
    assert shown == "2, 0.01*200, -3.4"
    assert parse_config({"true_w": shown}).true_w == config.true_w
    # Two equal neighbours stay as they are: "1, 1" reads better than "1*2".
    assert FIELDS["true_w"].show((1.0, 1.0, 2.0)) == "1, 1, 2"


@pytest.mark.parametrize("text", ["1*0", "1*1001", "1*x", "1**2", "1*-2"])
def test_a_bad_repeat_count_is_refused_naming_the_entry(text: str) -> None:
    with pytest.raises(ConfigError, match=r"true w: .* has a bad repeat count; write v\*k with k from 1 to 1,000"):
        parse_config({"true_w": text})


def test_the_count_is_checked_before_anything_is_expanded() -> None:
    with pytest.raises(ConfigError, match="has 1,200 numbers; at most 1,000 features"):
        parse_config({"true_w": "1*600, 1*600"})


def test_a_long_vector_is_printed_as_its_first_entries_and_its_largest() -> None:
    values = [0.001 * i for i in range(200)]
    values[137] = -5.0
    text = format_vector(values)
    assert text.startswith("[0, 0.001, 0.002, 0.003, 0.004, … 195 more]")
    assert "largest in size: -5 at index 137" in text
    assert format_vector([2.0, -3.4]) == "[2, -3.4]"  # the book's vectors are printed whole
