"""Parsing Gamma market metadata: JSON array, JSON lines, .gz, the public sample's wrapped records, bad input."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.config import PROJECT_ROOT
from harness.ingest.metadata import (
    MarketMeta,
    MetadataFileError,
    TokenMismatch,
    read_markets,
    read_markets_file,
)

REAL = PROJECT_ROOT / "fixtures" / "real" / "gamma_btc5m_markets_2026-07-24.jsonl.gz"
CID = "0x" + "ab" * 32
QID = "0x" + "cd" * 32
MID = "0x" + "ef" * 32


def gamma(**over) -> dict:
    """A market as Gamma's /markets sends it: outcomes and clobTokenIds are JSON-encoded string lists."""
    m = {"id": "123", "question": "Will it rain?", "conditionId": CID, "slug": "will-it-rain",
         "endDate": "2026-07-24T00:00:00Z", "outcomes": '["Yes", "No"]', "clobTokenIds": '["11", "22"]',
         "negRisk": True, "negRiskMarketID": MID, "questionID": QID}
    m.update(over)
    return m


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(p, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


WANT = MarketMeta(condition_id=CID, question="Will it rain?", slug="will-it-rain", outcomes=("Yes", "No"),
                  token_ids=(11, 22), end_date=1784851200, neg_risk=True, neg_risk_market_id=MID, question_id=QID,
                  gamma_id="123")


@pytest.mark.parametrize("name", ["m.json", "m.json.gz"])
def test_json_array(tmp_path, name):
    assert read_markets(write(tmp_path, name, json.dumps([gamma(), gamma(conditionId="0x" + "01" * 32)]))) == [
        WANT, MarketMeta(**{**WANT.__dict__, "condition_id": "0x" + "01" * 32})]


@pytest.mark.parametrize("name", ["m.jsonl", "m.jsonl.gz"])
def test_json_lines_with_blank_lines_and_plain_lists(tmp_path, name):
    other = "0x" + "01" * 32
    text = (json.dumps(gamma()) + "\n\n"
            + json.dumps(gamma(conditionId=other, outcomes=["Yes", "No"], clobTokenIds=[11, "0x16"])) + "\n")
    assert read_markets(write(tmp_path, name, text)) == [WANT, MarketMeta(**{**WANT.__dict__, "condition_id": other})]


def test_unicode_line_separators_inside_strings_stay_in_their_line(tmp_path):
    text = (json.dumps(gamma(question="Line\u2028sep\u0085 ok?"), ensure_ascii=False) + "\n"
            + json.dumps(gamma(conditionId="0x" + "01" * 32)))
    ms = read_markets(write(tmp_path, "m.jsonl.gz", text))
    assert [m.question for m in ms] == ["Line\u2028sep\u0085 ok?", WANT.question]


def test_ids_normalised_to_lower_case_0x(tmp_path):
    m = read_markets(write(tmp_path, "m.jsonl", json.dumps(gamma(conditionId="AB" * 32, negRiskMarketID=""))))[0]
    assert m.condition_id == CID and m.neg_risk_market_id == ""


def test_optional_fields_may_be_missing(tmp_path):
    m = read_markets(write(tmp_path, "m.jsonl", json.dumps({"conditionId": CID})))[0]
    assert m == MarketMeta(condition_id=CID)


def test_the_real_sample_reads_through_its_raw_objects():
    ms = read_markets(REAL)
    assert len(ms) == 292 and len({m.condition_id for m in ms}) == 292
    with gzip.open(REAL, "rt") as fh:
        recs = [json.loads(line) for line in fh]
    for m, r in zip(ms, recs):
        assert m.condition_id == r["condition_id"] and m.slug == r["slug"] == r["raw"]["slug"]
        assert m.token_ids == tuple(int(t) for t in r["token_ids"]) and m.outcomes == ("Up", "Down")
        assert m.question == r["raw"]["question"] and m.question.startswith("Bitcoin Up or Down")
        assert not m.neg_risk and m.question_id == r["raw"]["questionID"]


def _j(**fields) -> str:
    return json.dumps({"conditionId": CID, **fields})


@pytest.mark.parametrize("text,message", [
    (_j() + "\nnot json\n", r"m.jsonl:2: not JSON"),
    ("[1, 2", r"m.jsonl:1: not JSON"),
    ("[3]", r"m.jsonl: market #1: not a market object"),
    ('{"conditionId": "0x1234"}', r"m.jsonl:1: conditionId: '0x1234' is not 32 bytes of hex"),
    (_j(clobTokenIds='["1", "x"]'), r":1: clobTokenIds: 'x' is not an integer"),
    (_j(clobTokenIds="[1, 2"), r":1: clobTokenIds: .* is not a JSON list"),
    (_j(clobTokenIds='["-1"]'), r":1: clobTokenIds: '-1' is not a uint256"),
    (_j(clobTokenIds=[1, 2, 3], outcomes=["a", "b"]), r":1: clobTokenIds: 3 token ids for 2 outcomes"),
    (_j(outcomes=[1, 2]), r":1: outcomes: .* is not a list of names"),
    (_j(endDate="soon"), r":1: endDate: 'soon' is not an ISO date"),
    (_j(negRisk="maybe"), r":1: negRisk: 'maybe' is not a boolean"),
    (_j(questionID="0xzz"), r":1: questionID: '0xzz' is not 32 bytes of hex"),
    (_j(question=5), r":1: question: expected a string, got int"),
    ("\n\n", r"m.jsonl: no market with a condition id in the file$"),
    ('{"question": "q"}\n{"conditionId": ""}', r"m.jsonl: no market with a condition id in the file \(2 without one\)"),
])
def test_bad_input_names_the_file_line_and_field(tmp_path, text, message):
    with pytest.raises(MetadataFileError, match=message) as info:
        read_markets(write(tmp_path, "m.jsonl", text))
    assert str(tmp_path / "m.jsonl") in str(info.value) and "\n" not in str(info.value)


def test_markets_without_a_condition_id_are_skipped_and_listed(tmp_path):
    """Gamma lists markets before they are deployed (conditionId empty): nothing to key them by, so they are left
    out and named, while the rest of the dump loads."""
    text = "\n".join([json.dumps(gamma()), json.dumps(gamma(conditionId="")), json.dumps({"question": "q"})])
    mf = read_markets_file(write(tmp_path, "m.jsonl", text))
    assert mf.markets == [WANT] and mf.skipped == [f"{tmp_path / 'm.jsonl'}:2", f"{tmp_path / 'm.jsonl'}:3"]


def test_unreadable_file(tmp_path):
    bad = tmp_path / "m.jsonl.gz"
    bad.write_bytes(b"not gzip")
    with pytest.raises(MetadataFileError, match=r"m.jsonl.gz: cannot read"):
        read_markets(bad)
    with pytest.raises(MetadataFileError, match=r"missing.json: cannot read"):
        read_markets(tmp_path / "missing.json")


def test_mismatch_names_the_condition_and_both_ids():
    m = TokenMismatch(CID, gamma=(11, 22), derived=(11, 23))
    assert str(m) == f"{CID}: outcome 1: gamma 22 derived 23"
    assert str(TokenMismatch(CID, (1,), (1, 2))) == f"{CID}: outcome 1: gamma none derived 2"


@given(cid=st.binary(min_size=32, max_size=32), tokens=st.lists(st.integers(0, 2**256 - 1), max_size=4),
       names=st.lists(st.text(min_size=1).map(str.strip).filter(bool), min_size=4, max_size=4),
       question=st.text(), neg=st.booleans(), as_string=st.booleans())
def test_round_trip(tmp_path_factory, cid, tokens, names, question, neg, as_string):
    """A market written in Gamma's shape (lists JSON-encoded, or plain) reads back as the same values."""
    outcomes = names[:len(tokens)]
    enc = (lambda v: json.dumps(v)) if as_string else (lambda v: v)
    rec = {"conditionId": "0x" + cid.hex(), "question": question, "negRisk": neg,
           "outcomes": enc(outcomes), "clobTokenIds": enc([str(t) for t in tokens])}
    p = tmp_path_factory.mktemp("rt") / "m.jsonl"
    p.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    assert read_markets(p) == [MarketMeta(condition_id="0x" + cid.hex(), question=question.strip(),
                                          outcomes=tuple(outcomes), token_ids=tuple(tokens), neg_risk=neg)]


# --- issue 21, item 11: duplicates refused, depth and size bounded ------------------------------------------------


def test_a_condition_given_twice_is_refused_naming_both_records(tmp_path):
    other = gamma(conditionId="0x" + "01" * 32)
    lines = write(tmp_path, "m.jsonl", "\n".join(json.dumps(m) for m in (gamma(), other, gamma(question="Rain?"))))
    with pytest.raises(MetadataFileError, match=rf"m.jsonl:3: conditionId {CID} is also at \S+m.jsonl:1: one record "
                                                r"per market; nothing was loaded"):
        read_markets(lines)
    array = write(tmp_path, "m.json", json.dumps([gamma(), gamma(conditionId=CID.upper().replace("0X", ""))]))
    with pytest.raises(MetadataFileError, match=rf"m.json: market #2: conditionId {CID} is also at \S+m.json: "
                                                "market #1"):
        read_markets(array)


@pytest.mark.parametrize("name,text", [
    ("m.jsonl", "[" * 200_000 + "]" * 200_000),
    ("m.json", "[" * 200_000 + "]" * 200_000),
    ("m.jsonl", json.dumps(gamma(outcomes="[" * 200_000 + "]" * 200_000))),
    ("m.jsonl", json.dumps(gamma(raw='{"a":' + "[" * 200_000 + "]" * 200_000 + "}"))),
])
def test_deep_nesting_is_an_error_naming_the_file(tmp_path, name, text):
    with pytest.raises(MetadataFileError, match="nested too deeply") as info:
        read_markets(write(tmp_path, name, text))
    assert str(tmp_path / name) in str(info.value)


@pytest.mark.parametrize("field,value,limit", [
    ("question", "q" * 20_000_000, "2,000"), ("slug", "s" * 1001, "1,000"), ("id", "9" * 101, "100"),
    ("outcomes", json.dumps(["o" * 501, "No"]), "500"),
])
def test_a_field_over_its_limit_is_refused(tmp_path, field, value, limit):
    """A 20 MB question was stored and served; in a JSON array (read whole, up to 64 MB) the field limit holds it,
    in JSON lines the line limit already does."""
    with pytest.raises(MetadataFileError, match=rf"m.json: market #2: {field}: [\d,]+ characters, more than the "
                                                rf"{limit} allowed"):
        read_markets(write(tmp_path, "m.json", json.dumps([gamma(conditionId="0x" + "01" * 32),
                                                           gamma(**{field: value})])))


def test_too_many_outcomes_are_refused(tmp_path):
    with pytest.raises(MetadataFileError, match=r":1: outcomes: 65 items, more than the 64 allowed"):
        read_markets(write(tmp_path, "m.jsonl", json.dumps(gamma(outcomes=["x"] * 65, clobTokenIds=[]))))


def test_a_gz_of_whitespace_is_refused_in_bounded_memory(tmp_path):
    """300 MB of spaces in a 300 KB .gz: read one bounded line at a time, refused at the first over-long line.
    The child's peak RSS is measured against the same child that only imports the module."""
    import subprocess
    import sys

    bomb = tmp_path / "m.jsonl.gz"
    chunk = " " * 10_000_000
    with gzip.open(bomb, "wt", encoding="utf-8", compresslevel=1) as fh:
        for _ in range(30):
            fh.write(chunk)
    code = ("import resource, sys\nfrom harness.ingest.metadata import MetadataFileError, read_markets\n"
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "try:\n    read_markets(sys.argv[1])\nexcept MetadataFileError as exc:\n    print(exc)\n"
            "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)\n")
    done = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, timeout=120,
                          check=True, cwd=PROJECT_ROOT)
    message, grew_mb = done.stdout.strip().splitlines()
    assert message == f"{bomb}:1: a line of more than 1,000,000 characters (a Gamma market is a few thousand): " \
                      "not a markets file"
    assert int(grew_mb) < 50, f"reading grew the process by {grew_mb} MB"


def test_a_json_array_over_its_limit_is_refused(tmp_path, monkeypatch):
    from harness.ingest import metadata

    monkeypatch.setattr(metadata, "MAX_ARRAY_CHARS", 10_000)
    text = json.dumps([gamma(conditionId=f"0x{i:064x}") for i in range(1, 40)])
    assert len(text) > 10_000
    with pytest.raises(MetadataFileError, match=r"m.json: a JSON array of more than 10,000 characters: give a "
                                                r"dump this big as JSON lines"):
        read_markets(write(tmp_path, "m.json", text))
    monkeypatch.setattr(metadata, "MAX_FILE_CHARS", 5_000)
    with pytest.raises(MetadataFileError, match=r"m.jsonl:\d+: more than 5,000 characters decompressed"):
        read_markets(write(tmp_path, "m.jsonl", "\n".join(json.dumps(m) for m in json.loads(text))))


def test_deep_nesting_is_refused_before_parsing_whatever_the_recursion_limit(tmp_path):
    """The C parser's depth check follows the recursion limit: raised (as some libraries do), 200,000 nested brackets
    overflowed the C stack and killed both xdist workers. The depth is checked before parsing, in a child process
    here so that a regression crashes the child, not the test session."""
    import subprocess
    import sys

    f = write(tmp_path, "m.jsonl", "[" * 200_000 + "]" * 200_000)
    code = ("import sys; sys.setrecursionlimit(10**7); from harness.ingest.metadata import read_markets, MetadataFileError\n"
            "try:\n    read_markets(sys.argv[1])\nexcept MetadataFileError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, (r.returncode, r.stderr[-500:])
    assert str(f) in r.stdout and "nested too deeply" in r.stdout
