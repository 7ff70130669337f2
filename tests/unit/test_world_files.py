"""harness.ingest.world_files, the one owner of the world directory format: what it writes it reads back, byte-stable, and bad
files are one error naming the file and line."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.ingest import world_files as world

hex32 = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
price_rows = st.lists(st.tuples(hex32, st.integers(0, 255), st.integers(0, 1_000_000)), max_size=20)
logs = st.lists(st.fixed_dictionaries({"blockNumber": st.integers(0, 10**9).map(hex), "data": st.just("0x"),
                                       "topics": st.lists(hex32, max_size=3)}), max_size=20)
tmp_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=30)


@tmp_ok
@given(rows=price_rows)
def test_prices_round_trip(tmp_path, rows):
    path = tmp_path / "prices.csv"
    world.write_prices(path, rows)
    assert world.read_prices(path) == rows


@tmp_ok
@given(times=st.dictionaries(st.integers(0, 10**9), st.integers(0, 2**32 - 1), max_size=30))
def test_blocks_round_trip(tmp_path, times):
    path = tmp_path / "blocks.csv"
    world.write_blocks(path, times)
    assert world.read_blocks(path) == times


@tmp_ok
@given(items=logs)
def test_logs_round_trip_byte_for_byte(tmp_path, items):
    a, b = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    assert world.write_logs(a, items) == len(items)
    world.write_logs(b, list(world.read_logs_file(a)))
    assert list(world.read_logs_file(a)) == items
    assert a.read_bytes() == b.read_bytes()  # no timestamp in the gzip header: same logs, same bytes


def test_meta_round_trip_and_declared_range(tmp_path):
    assert world.read_meta(tmp_path) == {} and world.declared_range(tmp_path) is None
    world.write_meta(tmp_path, {"block_range": [5, 9], "end_time": 100})
    assert world.declared_range(tmp_path) == (5, 9) and world.declared_end_time(tmp_path) == 100


@pytest.mark.parametrize("meta, why", [('{"block_range": [9, 5]}', "block_range"), ("[1]", "not a JSON object"),
                                       ("{", "not JSON")])
def test_bad_world_json_is_one_error_naming_the_file(tmp_path, meta, why):
    (tmp_path / world.META_FILE).write_text(meta, encoding="utf-8")
    with pytest.raises(world.WorldError, match=why) as exc:
        world.declared_range(tmp_path)
    assert str(tmp_path / world.META_FILE) in str(exc.value)


def test_a_bad_log_line_names_file_and_line(tmp_path):
    path = tmp_path / "logs.jsonl"
    path.write_text('{"blockNumber": "0x1"}\n\n{"no": 1}\n', encoding="utf-8")
    with pytest.raises(world.WorldError, match=r"logs\.jsonl:3: not a log object"):
        list(world.open_logs(path))
