"""Tables from files: the shipped data sets, the CSV/TSV reader (dialects, headers, columns by name or by
position from 1, provenance) and every bad input it refuses with one line naming what is wrong."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

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
    data = b"x,y\n1,2\n3,4\n5,6\n"
    path = write(tmp_path, data)
    table = load_table(path)
    assert (table.rows, table.path, table.source) == (3, str(path), "data.csv")
    assert table.sha256 == hashlib.sha256(data).hexdigest()
    assert table.features.dtype == np.float64 and table.features.shape == (3, 1) and table.target.shape == (3,)
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
