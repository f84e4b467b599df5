"""Tables from files: the shipped data sets, the CSV/TSV reader (dialects, headers, columns by name or by
position from 1, provenance) and every bad input it refuses with one line naming what is wrong."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from linreg_tui.training.prepared import prepare, prepare_airfoil
from linreg_tui.training.tables import Table, TableError, airfoil_table, load_bytes, load_table, longley_table

AIRFOIL_SHA256 = "0e2d8d276acc27c343d45d3ce42e4c2a79b9264c05802c2613e1d76b32c1a691"
LONGLEY_SHA256 = "0927ec7cc34edb5670920cb2ff1542e46de27a2010746e1662f4276cf3569a24"


def write(tmp_path: Path, data: bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_airfoil_is_the_nasa_table_with_uci_column_means() -> None:
    table = airfoil_table()
    assert (table.rows, table.num_features, table.source, table.sha256) == (1503, 5, "airfoil", AIRFOIL_SHA256)
    assert table.feature_names == ("frequency_hz", "angle_deg", "chord_m", "velocity_m_s", "displacement_thickness_m")
    assert table.target_name == "sound_pressure_db"
    means = [*table.features.mean(axis=0), table.target.mean()]
    # As UCI lists them (shared/data/README.md), to the digits given.
    assert [round(m, 4) for m in means] == [2886.3806, 6.7823, 0.1365, 50.8607, 0.0111, 124.8359]


def test_longley_is_totemp_on_six_regressors_without_the_row_number() -> None:
    table = longley_table()
    assert (table.rows, table.source, table.sha256) == (16, "longley", LONGLEY_SHA256)
    assert table.feature_names == ("GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR")
    assert table.target_name == "TOTEMP"
    assert table.features[0].tolist() == [83.0, 234289.0, 2356.0, 1590.0, 107608.0, 1947.0]
    assert table.target[[0, -1]].tolist() == [60323.0, 70551.0]


def test_the_shipped_notice_credits_the_sources_as_their_licences_ask() -> None:
    notice = (Path(airfoil_table().path).parent / "NOTICE.md").read_text(encoding="utf-8")
    for credit in ("CC BY 4.0", "doi:10.24432/C5VW2C", "NASA Reference", "Public domain", "JASA 62 (1967)"):
        assert credit in notice


def test_provenance_is_the_files_bytes_and_rows(tmp_path: Path) -> None:
    data = b"x,y\n" + b"1,2\n" * 300_000  # 1.2 MB: the hash reads it in pieces
    path = write(tmp_path, data)
    table = load_table(path)
    assert (table.rows, table.path, table.source) == (300_000, str(path), "data.csv")
    assert table.sha256 == hashlib.sha256(data).hexdigest()
    assert table.features.dtype == np.float64 and table.features.shape == (300_000, 1)
    assert table.target.shape == (300_000,)
    assert not table.features.flags.writeable and not table.target.flags.writeable


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"x,y,z\n1,2,3\n4,5,6\n", "comma"),
        (b"x\ty\tz\n1\t2\t3\n4\t5\t6\n", "tab"),
        (b"x;y;z\n1;2;3\n4;5;6\n", "semicolon"),
        (b"\xef\xbb\xbfx,y,z\r\n1,2,3\r\n4,5,6\r\n", "a UTF-8 BOM and CRLF line ends"),
        (b"x,y,z\r1,2,3\r4,5,6\r", "CR line ends"),
        (b'"x","y","z"\n"1","2.0","3"\n4,"5"," 6 "\n', "quoted names and numbers"),
        (b"\n x , y , z \n\n1,2,3\n\n4, 5 ,6\n\n", "blank lines and spaces around cells"),
        (b"x,y,z\n1e0,0.2e1,+3\n4.,.5e1,6\n", "the forms a number may take"),
    ],
)
def test_every_dialect_reads_the_same_table(tmp_path: Path, data: bytes, name: str) -> None:
    table = load_table(write(tmp_path, data))
    assert (table.feature_names, table.target_name) == (("x", "y"), "z"), name
    assert table.features.tolist() == [[1, 2], [4, 5]] and table.target.tolist() == [3, 6], name


def test_a_header_is_detected_and_can_be_forced_either_way(tmp_path: Path) -> None:
    numbers = write(tmp_path, b"1,2,3\n4,5,6\n")
    table = load_table(numbers)
    assert (table.feature_names, table.target_name, table.rows) == (("c1", "c2"), "c3", 2)
    with_bom = load_table(write(tmp_path, b"\xef\xbb\xbf1,2,3\r\n4,5,6\r\n", "bom.csv"))
    assert with_bom.features.tolist() == [[1, 2], [4, 5]]  # a BOM before a number, not a name
    years = write(tmp_path, b"2019,2020,2021\n1,2,3\n", "years.csv")
    assert load_table(years).rows == 2  # numbers look like data
    forced = load_table(years, header=True)
    assert (forced.feature_names, forced.target_name, forced.rows) == (("2019", "2020"), "2021", 1)
    unnamed = load_table(write(tmp_path, b",b,c\n1,2,3\n", "unnamed.csv"))
    assert unnamed.feature_names == ("c1", "b")  # an empty name is named by its position


def test_target_and_features_by_name_and_by_position_from_1(tmp_path: Path) -> None:
    """Positions count from 1, as the names c1, c2, … of a file without a header do: --target 1 and
    --target c1 are the same column."""
    path = write(tmp_path, b"a,b,c,d\n1,2,3,4\n5,6,7,8\n")
    by_name = load_table(path, target="b", features="d,a")
    by_position = load_table(path, target="2", features="4, 1")
    for table in (by_name, by_position):
        assert (table.feature_names, table.target_name) == (("d", "a"), "b")
        assert table.features.tolist() == [[4, 1], [8, 5]] and table.target.tolist() == [2, 6]
    assert load_table(path, target="a").feature_names == ("b", "c", "d")
    bare = write(tmp_path, b"1,2,3\n4,5,6\n", "bare.csv")
    assert load_table(bare, header=False, target="1").target.tolist() == load_table(bare, target="c1").target.tolist()
    numbered = write(tmp_path, b"3,2,1\n7,8,9\n", "numbered.csv")
    assert load_table(numbered, header=True, target="1").target_name == "1"  # a name wins over a position


BAD_INPUT: list[tuple[bytes, dict[str, object], str]] = [
    (b"", {}, "data.csv is empty; a table needs rows of numbers"),
    (b"\n\n", {}, "data.csv is empty (blank lines only)"),
    (b"a,b,c\n", {}, "data.csv has a header row but no rows of data"),
    (b"a,b,c\n1,2,3\n4,xyz,6\n", {}, "data.csv: line 3, column 2 ('b'): 'xyz' is not a number"),
    (b"a,b\n1,2\n3," + b"9" * 5 + b"q" * 40 + b"\n", {}, "line 3, column 2 ('b'): '99999qqqqqqqqqqqqqq…' is not"),
    (b"a,b,c\n1,,3\n", {}, "data.csv: line 2, column 2 ('b') is empty; every cell needs a number"),
    (b"a,b,c\n1,2,3\n4,nan,6\n", {}, "line 3, column 2 ('b'): 'nan' is NaN; every cell needs a finite number"),
    (b"a,b,c\n1,2,3\n4,5,-inf\n", {}, "line 3, column 3 ('c'): '-inf' is infinite; every cell needs a finite"),
    (b"a,b,c\n1,2,3\n4,5\n", {}, "data.csv: line 3 has 2 fields, the header has 3; every row needs the same"),
    (b"a,b,c\n1,2,3\n4,5,6,7\n", {}, "line 3 has 4 fields, the header has 3"),
    (b"a,b,c\n1,2\n3,4\n", {}, "line 2 has 2 fields, the header has 3"),
    (b"1,2,3\n4,5\n", {}, "line 2 has 2 fields, the first row has 3"),
    (b"a,b\n1,2\n  \n", {}, "line 3 holds only spaces; make it empty or delete it"),
    (b"a\n1\n2\n", {}, "line 1 has one column; a table needs a target and at least one feature"),
    (b"a,b,a\n1,2,3\n", {}, "the header names 'a' twice (columns 1 and 3); names must be unique"),
    (b"a,b,c\n1,2,3\n", {"target": "zz"}, "unknown target column 'zz': the columns are a, b, c"),
    (b"a,b,c\n1,2,3\n", {"features": "a,q"}, "unknown feature column 'q': the columns are a, b, c"),
    (b"a,b,c\n1,2,3\n", {"target": "4"}, "target column 4 is out of range: the table has columns 1 to 3"),
    (b"a,b,c\n1,2,3\n", {"target": "0"}, "target column 0 is out of range"),
    (b"a,b,c\n1,2,3\n", {"features": "a,c"}, "the target column 3 ('c') is among the features"),
    (b"a,b,c\n1,2,3\n", {"features": "a,1", "target": "b"}, "features: column 1 ('a') is listed twice"),
    (b"a,b,c\n1,2,3\n", {"features": "a,,b"}, "features: entry 2 of 'a,,b' is empty"),
    (b"a,b\n1,2\n", {"header": False}, "line 1, column 1 ('c1'): 'a' is not a number (a header row? leave out"),
    (b"x;y;z\n1,5;2;3\n", {}, "'1,5' is not a number (a decimal comma? write 1.5, not 1,5)"),
    (b"a,b,c\n1,2,3\n4,\xff,6\n", {}, "data.csv: line 3 is not UTF-8 text (byte 0xff at byte 3 of the line)"),
    (b"a,b\n" + b"1,2\n" * 300 + b"3,\xe9\n", {}, "line 302 is not UTF-8 text (byte 0xe9"),  # past the sample
    (b"a,b\n" + b"1,2\n" * 300 + b"3,x\n", {}, "line 302, column 2 ('b'): 'x' is not a number"),
    ("a,b\n1,2\n".encode("utf-16"), {}, "data.csv is UTF-16 text; save it as UTF-8"),
    (b"a,b\n1,2\n" * 10, {"host_free_bytes": 1 << 20}, "needs about 4.0 MiB of RAM to load, more than fits"),
]


@pytest.mark.parametrize(("data", "options", "message"), BAD_INPUT, ids=[m[:40] for *_, m in BAD_INPUT])
def test_bad_input_is_refused_with_one_line_naming_it(
    tmp_path: Path, data: bytes, options: dict[str, object], message: str
) -> None:
    with pytest.raises(TableError) as refused:
        load_table(write(tmp_path, data), **options)  # type: ignore[arg-type]
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_missing_files_and_directories_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TableError, match=r"nowhere.csv: no such file$"):
        load_table(tmp_path / "nowhere.csv")
    with pytest.raises(TableError, match=r"is a directory; name a CSV or TSV file$"):
        load_table(tmp_path)


def test_a_file_too_large_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The estimate comes from the file's size and its first lines: numpy's loader is never called."""
    path = write(tmp_path, b"a,b\n" + b"1.25,2.5\n" * 100_000)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was read")

    monkeypatch.setattr(np, "loadtxt", refuse)
    with pytest.raises(
        TableError, match=r"data.csv \(878.9 KiB\) needs about 9.7 MiB of RAM to load, more than fits \(8.0 MiB free\)"
    ):
        load_table(path, host_free_bytes=8 << 20)


def test_the_estimate_is_close_to_what_the_load_needs() -> None:
    """1,000,000 rows of 6 columns at 66 bytes a line: the loader's array is 45.8 MiB and a load peaked at
    122 MiB (tests/bench_tables.py); the estimate must cover that without being wildly more."""
    estimate = load_bytes(66_000_000, 66.0, 12, 6)
    assert 122 << 20 < estimate < 300 << 20


def test_a_table_is_frozen() -> None:
    table: Table = longley_table()
    with pytest.raises(AttributeError):
        table.rows = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        table.features[0, 0] = 1.0


# Prepared data: what training gets from a table.


def numbered_table(tmp_path: Path, rows: int = 20) -> Table:
    """Row i holds x1 = i, x2 = i², y = 3i + 1: the rows are told apart by their first feature."""
    lines = ["x1,x2,y", *(f"{i},{i * i},{3 * i + 1}" for i in range(rows))]
    return load_table(write(tmp_path, "\n".join(lines).encode(), "numbered.csv"))


def test_prepared_data_is_float32_for_training_and_float64_for_the_closed_form(tmp_path: Path) -> None:
    prepared = prepare(numbered_table(tmp_path))
    assert prepared.train.features.dtype == torch.float32 and prepared.train.features.shape == (20, 2)
    assert prepared.train.labels.dtype == torch.float32 and prepared.train.labels.shape == (20, 1)
    assert prepared.train64.features.dtype == np.float64 and prepared.train64.target.shape == (20,)
    assert prepared.validation is None and prepared.validation64 is None
    assert (prepared.feature_names, prepared.target_name, prepared.true_w) == (("x1", "x2"), "y", None)
    assert prepared.train.labels[:, 0].tolist() == prepared.train64.target.tolist()


def test_num_examples_keeps_the_first_rows_before_the_split(tmp_path: Path) -> None:
    table = numbered_table(tmp_path)
    first = prepare(table, num_examples=12)
    assert first.train64.features[:, 0].tolist() == list(range(12))
    split = prepare(table, num_examples=12, val=4, generator=torch.Generator().manual_seed(0))
    assert sorted([*split.train64.features[:, 0], *split.validation64.features[:, 0]]) == list(range(12))  # type: ignore[union-attr]
    with pytest.raises(TableError, match=r"examples: 21 is out of range; numbered.csv has 20 rows"):
        prepare(table, num_examples=21)
    with pytest.raises(TableError, match=r"validation: 12 rows would leave no training rows out of 12"):
        prepare(table, num_examples=12, val=12, generator=torch.Generator())


def test_the_validation_rows_are_chosen_by_the_seed(tmp_path: Path) -> None:
    table = numbered_table(tmp_path)

    def held_out(seed: int) -> list[float]:
        prepared = prepare(table, val=5, generator=torch.Generator().manual_seed(seed))
        assert prepared.train64.count == 15 and prepared.validation is not None
        assert prepared.validation.features.shape == (5, 2) and prepared.validation.labels.shape == (5, 1)
        rows = prepared.validation64.features[:, 0].tolist()  # type: ignore[union-attr]
        assert rows == sorted(rows)  # both sides keep the file's order
        return rows

    assert held_out(7) == held_out(7)
    assert held_out(7) != held_out(8)
    generator = torch.Generator().manual_seed(7)
    assert held_out(7) == sorted(torch.randperm(20, generator=generator)[:5].tolist())


def test_standardization_uses_the_training_rows_only(tmp_path: Path) -> None:
    table = numbered_table(tmp_path)
    prepared = prepare(table, standardize="all", val=5, generator=torch.Generator().manual_seed(3))
    train_rows = prepared.train64.features[:, 0] * prepared.scaling.feature_std[0] + prepared.scaling.feature_mean[0]
    kept = np.round(train_rows).astype(int)
    raw = table.features[kept]
    assert prepared.scaling.feature_mean == pytest.approx(raw.mean(axis=0), rel=1e-15)
    assert prepared.scaling.feature_std == pytest.approx(raw.std(axis=0), rel=1e-14)  # population std (ddof 0)
    assert prepared.scaling.target_mean == pytest.approx(table.target[kept].mean(), rel=1e-15)
    assert prepared.train64.features.mean(axis=0) == pytest.approx([0, 0], abs=1e-14)
    assert prepared.train64.features.std(axis=0) == pytest.approx([1, 1], rel=1e-14)
    assert abs(prepared.validation64.features.mean()) > 1e-3  # type: ignore[union-attr]  # not its own stats
    features_only = prepare(table, standardize="features")
    assert features_only.train64.target.tolist() == table.target.tolist()
    assert (features_only.scaling.target_mean, features_only.scaling.target_std) == (0.0, 1.0)


def test_a_constant_column_is_refused_when_standardizing(tmp_path: Path) -> None:
    table = load_table(write(tmp_path, b"a,k,y\n1,0.1,5\n2,0.1,5\n3,0.1,5\n"))
    with pytest.raises(TableError, match=r"^feature 'k' is constant \(0.1 in every training row\): its std is 0"):
        prepare(table, standardize="features")
    with pytest.raises(TableError, match=r"^target 'y' is constant .* use --standardize features or none$"):
        prepare(load_table(write(tmp_path, b"a,y\n1,5\n2,5\n", "t.csv")), standardize="all")
    assert prepare(table).train64.features[:, 1].tolist() == [0.1] * 3  # without standardizing it is data
    with pytest.raises(TableError, match=r"standardize: 'some' is not a choice; allowed: none, features, all"):
        prepare(table, standardize="some")


def test_airfoil_is_the_books_get_data_ch11_bit_for_bit() -> None:
    """d2l 11.5: genfromtxt(dtype=float32), (data − mean) / std over all 1,503 rows, the first 1,500 kept."""
    path = airfoil_table().path
    data = np.genfromtxt(path, dtype=np.float32, delimiter="\t", skip_header=1)  # the book's file has no header
    data = torch.from_numpy((data - data.mean(axis=0)) / data.std(axis=0))
    prepared = prepare_airfoil()
    assert torch.equal(prepared.train.features, data[:1500, :-1])
    assert torch.equal(prepared.train.labels[:, 0], data[:1500, -1])
    assert prepared.validation is None and prepared.scaling.mode == "all"
    # The closed form works on the very numbers training sees; the scaling is the book's float32 statistics,
    # which differ from float64's by up to 3e-4 (velocity's mean), more than float32's rounding.
    assert np.array_equal(prepared.train64.features, prepared.train.features.double().numpy())
    assert np.array_equal(prepared.train64.target, prepared.train.labels[:, 0].double().numpy())
    table = airfoil_table()
    assert prepared.scaling.feature_mean == pytest.approx(table.features.mean(axis=0), rel=1e-5)
    assert prepared.scaling.target_std == pytest.approx(table.target.std(), rel=1e-6)
