"""`harness run`: stage selection, the pytest invocation per target, and the exit-code mapping."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import UsageError
from harness.gates import STAGES
from harness.gates.run import ALL_STAGES, EXIT_REFUSED, classify, parse_stages, plan_run

PROD_ENV = {"CLICKHOUSE_URL": "https://ch.example:8443", "CLICKHOUSE_USER": "u",
            "CLICKHOUSE_PASSWORD": "pw-very-secret-1", "CLICKHOUSE_DATABASE": "polymarket"}


@given(st.integers(0, len(STAGES) - 1), st.integers(0, len(STAGES) - 1))
def test_a_range_is_the_chain_between_its_ends(i, j):
    lo, hi = min(i, j), max(i, j)
    assert parse_stages(f"{STAGES[lo]}..{STAGES[hi]}") == list(STAGES[lo:hi + 1])
    if lo < hi:
        with pytest.raises(UsageError, match="comes after"):
            parse_stages(f"{STAGES[hi]}..{STAGES[lo]}")


@given(st.lists(st.sampled_from(ALL_STAGES), min_size=1, max_size=10))
def test_a_list_comes_back_once_each_in_pipeline_order(names):
    got = parse_stages(",".join(names))
    assert got == [s for s in ALL_STAGES if s in set(names)]


@pytest.mark.parametrize("text", ["", "backfil", "backfill..", "sync..rollback", "backfill,,sync", "deploy..sync"])
def test_bad_stage_selections_are_usage_errors_naming_the_option(text):
    with pytest.raises(UsageError, match=r"^--stages"):
        parse_stages(text)


def test_embedded_plan_never_carries_server_credentials(tmp_path):
    env = {**PROD_ENV, "PATH": "/bin", "POLYGON_RPC_URL": "https://rpc.example/v2/abcdef0123456789abcdef"}
    plan = plan_run(stages=["deploy"], target="embedded", reports=tmp_path, env=env, run_id="r1")
    assert not [k for k in plan.env if k.startswith("CLICKHOUSE_")]
    assert "--throwaway-prod" in plan.argv and "--prod" not in plan.argv
    assert plan.argv[plan.argv.index("-m", 3) + 1] == "deploy"
    assert plan.env["HARNESS_RUN_ID"] == "r1" and plan.report_dir == tmp_path / "r1"
    assert not any("rpc.example" in a for a in plan.argv)  # the RPC URL travels in the environment only
    plain = plan_run(stages=["backfill", "sync"], reports=tmp_path, env={})
    assert "--throwaway-prod" not in plain.argv and plain.argv[plain.argv.index("-m", 3) + 1] == "backfill or sync"


def test_prod_plan_uses_the_production_guard(tmp_path):
    plan = plan_run(stages=["deploy"], target="prod", reports=tmp_path, env=PROD_ENV)
    assert "--prod" in plan.argv and "--throwaway-prod" not in plan.argv
    assert plan.env["CLICKHOUSE_PASSWORD"] == PROD_ENV["CLICKHOUSE_PASSWORD"]
    with pytest.raises(UsageError, match="CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE"):
        plan_run(stages=["deploy"], target="prod", reports=tmp_path,
                 env={"CLICKHOUSE_URL": "https://ch.example:8443", "CLICKHOUSE_USER": "u"})
    with pytest.raises(UsageError, match="never from --world"):
        plan_run(stages=["deploy"], target="prod", reports=tmp_path, env=PROD_ENV, world=tmp_path)
    with pytest.raises(UsageError, match="needs --rpc-url"):  # prod is never fed the simulated world
        plan_run(stages=["backfill"], target="prod", reports=tmp_path, env=PROD_ENV)
    with pytest.raises(UsageError, match="--database"):
        plan_run(stages=["sync"], database="bad-name!", reports=tmp_path, env={})


def _check(stage, outcome, check="c", summary="s"):
    return {"stage": stage, "check": check, "outcome": outcome, "summary": summary}


def test_exit_codes_from_pytest_status_and_run_json():
    ok = {"checks": [_check("backfill", "passed"), _check("validate", "no_data")], "refused": {}}
    assert classify(0, ok)[:2] == (0, "passed")
    failed = {"checks": [_check("backfill", "failed", "rebuild", "boom"), _check("sync", "failed")],
              "refused": {"sync": "stage 'sync' refused: missing gate backfill"}}
    assert classify(1, failed) == (1, "failed", "backfill", "rebuild: boom")  # the cause, not its refusal
    refused = {"checks": [_check("deploy", "failed")], "refused": {"deploy": "stage 'deploy' refused: x"}}
    assert classify(1, refused) == (EXIT_REFUSED, "refused", "deploy", "stage 'deploy' refused: x")
    for rc in (2, 3, 4, 5):
        assert classify(rc, ok)[0] == 2
    assert classify(1, None)[0] == 2  # pytest failed before any stage ran


def test_a_run_without_every_selected_stage_completed_is_not_a_pass():
    """Exit 0 means every selected stage ran its completion check: none ran (collect-only), or one stage's was
    left out (-k), or a stage recorded nothing, is an error naming the stage."""
    assert classify(0, None, ["backfill"])[:2] == (2, "error")
    assert "run executed no check" in classify(0, None, ["backfill"])[3]
    assert classify(0, {"checks": [], "refused": {}}, ["backfill"])[:2] == (2, "error")
    partial = {"checks": [_check("backfill", "passed", "ingest")], "refused": {}}
    code, outcome, stage, why = classify(0, partial, ["backfill"])
    assert (code, outcome, stage) == (2, "error", "backfill") and "stage_complete" in why
    two = {"checks": [_check("backfill", "passed", "stage_complete"), _check("sync", "passed", "ingest")],
           "refused": {}}
    assert classify(0, two, ["backfill", "sync"])[:3] == (2, "error", "sync")
    full = {"checks": [_check("backfill", "passed", "stage_complete"), _check("sync", "passed", "stage_complete"),
                       _check("rollback", "passed", "restore")], "refused": {}}
    assert classify(0, full, ["backfill", "sync", "rollback"])[:2] == (0, "passed")
    assert classify(0, full, ["backfill", "sync", "rollback", "deploy"])[:3] == (2, "error", "deploy")


@pytest.mark.parametrize("extra", [
    ["--clickhouse", "http://127.0.0.1:8123"], ["--clickhouse=https://u:pw-very-secret-1@ch.example:8443"],
    ["-x", "--backend", "server"], ["--backend=local-server"], ["--prod"],
])
def test_an_embedded_run_refuses_a_server_after_the_separator(tmp_path, extra):
    """Issue 20: `run -- --clickhouse http://…` reached a server although an embedded run drops CLICKHOUSE_*."""
    with pytest.raises(UsageError) as exc:
        plan_run(stages=["backfill"], target="embedded", reports=tmp_path, env={}, extra=extra)
    msg = str(exc.value)
    assert "--target prod" in msg and "nothing was touched" in msg and "pw-very-secret-1" not in msg
    assert not any(tmp_path.iterdir())


def test_an_embedded_run_may_name_its_own_chdb_directory_after_the_separator(tmp_path):
    plan = plan_run(stages=["backfill"], target="embedded", reports=tmp_path, env={},
                    extra=["--clickhouse", f"chdb://{tmp_path}/wh", "--backend", "embedded"])
    assert plan.argv[-4:] == ["--clickhouse", f"chdb://{tmp_path}/wh", "--backend", "embedded"]


def test_the_run_command_exits_2_on_a_server_address_after_the_separator(tmp_path, capsys):
    from harness.__main__ import main

    rc = main(["run", "--stages", "backfill", "--reports", str(tmp_path / "r"), "--", "--clickhouse",
               "http://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot reach a server" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
