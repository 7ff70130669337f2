"""Logging: UTC ISO timestamps, JSON lines with ts/level/logger/msg + extra fields, secrets redacted."""
from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import UsageError, register_secret
from harness.ops.logs import setup_logging, utc_iso


@pytest.fixture
def restore():
    root = logging.getLogger("harness")
    saved = (list(root.handlers), root.level, root.propagate)
    yield
    root.handlers[:], root.level, root.propagate = saved[0], saved[1], saved[2]


@given(st.floats(0, 4_000_000_000, allow_nan=False))
def test_utc_iso_is_the_instant_in_utc(t):
    text = utc_iso(t)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text)
    back = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
    assert 0 <= t - back < 0.001 + 1e-6


def test_json_lines_carry_fields_and_hide_secrets(restore):
    out = io.StringIO()
    setup_logging("json", "INFO", stream=out)
    register_secret("https://rpc.example/v2/Zq9Kx7Lm3Np5Rt8Vw2Yb")
    log = logging.getLogger("harness.ingest")
    log.info("window %d..%d from %s", 10, 20, "https://rpc.example/v2/Zq9Kx7Lm3Np5Rt8Vw2Yb",
             extra={"blocks": 11, "rate": 1.5, "eta": "0:00:03"})
    log.debug("not shown at INFO")
    (line,) = out.getvalue().splitlines()
    rec = json.loads(line)
    assert (rec["level"], rec["logger"], rec["blocks"], rec["rate"], rec["eta"]) == (
        "INFO", "harness.ingest", 11, 1.5, "0:00:03")
    assert rec["msg"].startswith("window 10..20 from https://rpc.example/") and "Zq9Kx7" not in line
    age = datetime.now(UTC) - datetime.strptime(rec["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(age.total_seconds()) < 60


def test_text_lines_are_timestamped_and_setup_replaces_itself(restore):
    first, out = io.StringIO(), io.StringIO()
    setup_logging("text", "DEBUG", stream=first)
    setup_logging("text", "WARNING", stream=out)  # a second set-up replaces the first handler
    log = logging.getLogger("harness.gates.run")
    log.info("quiet")
    log.warning("stage %s refused", "deploy", extra={"run_id": "r1"})
    assert first.getvalue() == ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING harness\.gates\.run: stage deploy refused "
                        r"run_id=r1\n", out.getvalue())


@pytest.mark.parametrize("fmt, level, says", [("xml", "INFO", "--log-format"), ("text", "LOUD", "--log-level")])
def test_bad_settings_name_the_option(fmt, level, says, restore):
    with pytest.raises(UsageError, match=says):
        setup_logging(fmt, level)


def test_cli_flags_before_or_after_the_command(restore):
    from harness.__main__ import build_parser

    p = build_parser()
    a = p.parse_args(["--log-format", "json", "freshness", "-v"])
    assert (a.log_format, a.log_level) == ("json", "DEBUG")
    b = p.parse_args(["freshness", "--log-format", "json", "-q"])
    assert (b.log_format, b.log_level) == ("json", "WARNING")
    c = p.parse_args(["freshness"])
    assert (c.log_format, c.log_level) == ("text", "INFO")


def test_main_leaves_logging_as_it_found_it(capsys):
    from harness.__main__ import main

    root = logging.getLogger("harness")
    before = (list(root.handlers), root.level, root.propagate)
    assert main(["--log-format", "json", "notify", "--stage", "x", "--notify-url", "ftp://nope"]) == 2
    assert (list(root.handlers), root.level, root.propagate) == before
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --notify-url")


def _check_uvicorn_lines_go_through_the_harness_handler():
    """The API's server logs (uvicorn.error, uvicorn.access) come out in --log-format json like the harness's own,
    without uvicorn's ANSI copy of the message; teardown leaves uvicorn's logger as it was."""
    from harness.ops.logs import teardown_logging

    uv = logging.getLogger("uvicorn")
    before = (list(uv.handlers), uv.level, uv.propagate)
    out = io.StringIO()
    h = setup_logging("json", "INFO", stream=out)
    try:
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42,
                                                extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"})
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/health", "1.1",
                                                 200)
        logging.getLogger("uvicorn.error").debug("below the level")
    finally:
        teardown_logging(h)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [(x["level"], x["logger"], x["msg"]) for x in lines] == [
        ("INFO", "uvicorn.error", "Started server process [42]"),
        ("INFO", "uvicorn.access", '127.0.0.1:5 - "GET /health HTTP/1.1" 200')]
    assert "color_message" not in lines[0]
    assert (list(uv.handlers), uv.level, uv.propagate) == before


def _check_uvicorn_lines_reach_the_handler_after_another_logging_config():
    """In the suite, an in-process uvicorn (its dictConfig) or any library's dictConfig (disable_existing_loggers)
    ran earlier cut uvicorn.error / uvicorn.access off, and --log-format json lost their lines."""
    import logging.config

    from harness.ops.logs import teardown_logging

    logging.getLogger("uvicorn.error")
    logging.getLogger("uvicorn.access")
    every = {n: lg for n, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    was = {n: (lg.disabled, lg.propagate) for n, lg in every.items()}
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": True})
    out = io.StringIO()
    h = setup_logging("json", "INFO", stream=out)
    try:
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 7)
    finally:
        teardown_logging(h)
        for n, (disabled, propagate) in was.items():  # the rest of the session's loggers as they were
            every[n].disabled, every[n].propagate = disabled, propagate
    assert [json.loads(x)["msg"] for x in out.getvalue().splitlines()] == ["Started server process [7]"]


def _in_a_fresh_interpreter(check: str) -> None:
    """The API process configures logging once at start; in the suite's own process, other tests' logging set-up
    (in-process servers, libraries) has already run, so these checks run where the CLI does: a new interpreter."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, "-c", f"from tests.unit.test_logs import {check} as f; f()"], cwd=root,
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-3000:]


def test_uvicorn_lines_go_through_the_harness_handler():
    _in_a_fresh_interpreter("_check_uvicorn_lines_go_through_the_harness_handler")


def test_uvicorn_lines_reach_the_handler_after_another_logging_config():
    _in_a_fresh_interpreter("_check_uvicorn_lines_reach_the_handler_after_another_logging_config")
