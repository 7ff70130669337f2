"""Alerts in the shape the receiver accepts: the harness's JSON, Slack's {"text"} and a Teams Adaptive Card,
posted to loopback receivers (one of them answers like Slack's incoming webhook: 400 no_text without text)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.__main__ import main
from harness.errors import UsageError
from harness.ops.notify_format import notify_format, render
from tests.support.receiver import Receiver

BODY = {"run_id": "20261207T021500Z-1", "stage": "backfill", "outcome": "failed",
        "summary": "no_block_gap: 2 gap(s) <60000100..60000200> & more", "host": "pnl-1",
        "time": "2026-12-07T02:16:00Z", "watermark_block": 61512045, "stages": ["backfill", "sync"]}


class SlackLike:
    """A stand-in for a Slack incoming webhook: 200 "ok" for a body with a string ``text``, else 400
    "no_text" (what Slack answers to a JSON post without text or blocks)."""

    def __init__(self):
        self.accepted: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                ok = isinstance(body, dict) and isinstance(body.get("text"), str) and body["text"].strip()
                if ok:
                    outer.accepted.append(body)
                self.send_response(200 if ok else 400)
                self.end_headers()
                self.wfile.write(b"ok" if ok else b"no_text")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/s3cretTokenABC123xyz"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_json_is_the_message_itself():
    assert render(BODY, "json") is BODY


def test_slack_is_one_text_with_every_field_escaped():
    out = render(BODY, "slack")
    assert list(out) == ["text"]
    text = out["text"]
    assert text.splitlines()[0] == "*polymarket-pnl-harness: backfill failed on pnl-1 (run 20261207T021500Z-1)*"
    assert "no_block_gap: 2 gap(s) &lt;60000100..60000200&gt; &amp; more" in text and "<6" not in text
    assert "time: 2026-12-07T02:16:00Z" in text and "watermark_block: 61512045" in text
    assert "stages: backfill, sync" in text


def test_teams_is_an_adaptive_card_message():
    out = render(BODY, "teams")
    assert out["type"] == "message" and len(out["attachments"]) == 1
    att = out["attachments"][0]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = att["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    head, summary, facts = card["body"]
    assert head["text"].startswith("polymarket-pnl-harness: backfill failed") and summary["text"] == BODY["summary"]
    assert {"title": "watermark_block", "value": "61512045"} in facts["facts"]
    assert all(isinstance(f["value"], str) for f in facts["facts"])  # Adaptive Card facts are strings


def test_the_format_comes_from_the_option_then_the_environment():
    assert notify_format(None, env={}) == "json"
    assert notify_format(None, env={"HARNESS_NOTIFY_FORMAT": "Slack"}) == "slack"
    assert notify_format("teams", env={"HARNESS_NOTIFY_FORMAT": "slack"}) == "teams"
    with pytest.raises(UsageError, match="HARNESS_NOTIFY_FORMAT: 'discord'"):
        notify_format(None, env={"HARNESS_NOTIFY_FORMAT": "discord"})


def test_slack_accepts_the_slack_format_and_rejects_the_generic_json(capsys, monkeypatch):
    monkeypatch.delenv("HARNESS_NOTIFY_FORMAT", raising=False)
    with SlackLike() as slack:
        assert main(["notify", "--stage", "polymarket-pnl-sync.service", "--summary", "unit failed",
                     "--notify-url", slack.url]) == 1  # the generic object: Slack answers 400
        assert main(["notify", "--stage", "polymarket-pnl-sync.service", "--summary", "unit failed",
                     "--notify-url", slack.url, "--notify-format", "slack"]) == 0
        monkeypatch.setenv("HARNESS_NOTIFY_FORMAT", "slack")
        assert main(["notify", "--stage", "freshness", "--outcome", "warn", "--notify-url", slack.url]) == 0
    out = capsys.readouterr()
    assert "alert NOT sent" in out.out and "alert sent" in out.out
    assert "HTTP Error 400" in out.err and "s3cretToken" not in out.out + out.err
    first, second = slack.accepted
    assert first["text"].startswith("*polymarket-pnl-harness: polymarket-pnl-sync.service failed on ")
    assert "unit failed" in first["text"] and "freshness warn" in second["text"]


def test_teams_and_json_reach_a_receiver_as_rendered(monkeypatch):
    monkeypatch.delenv("HARNESS_NOTIFY_FORMAT", raising=False)
    with Receiver() as rx:
        assert main(["notify", "--stage", "sync", "--summary", "s", "--notify-url", rx.url,
                     "--notify-format", "teams"]) == 0
        assert main(["notify", "--stage", "sync", "--summary", "s", "--notify-url", rx.url]) == 0
    teams, plain = rx.bodies
    assert teams["attachments"][0]["content"]["type"] == "AdaptiveCard"
    assert (plain["stage"], plain["outcome"], plain["summary"]) == ("sync", "failed", "s")


def test_a_bad_format_is_a_usage_error(capsys):
    assert main(["notify", "--stage", "x", "--notify-url", "http://127.0.0.1:9/x", "--notify-format", "pager"]) == 2
    assert "--notify-format" in capsys.readouterr().err
