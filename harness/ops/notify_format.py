"""The shape of an alert on the wire: the harness's own JSON, or what Slack's and Teams' incoming webhooks accept.

Why: harness.ops.notify builds one message (run id, stage, outcome, summary, host, time, extra fields; redacted) and
POSTs it. A generic receiver takes that object as it is, but Slack's incoming webhooks answer 400 ``no_text`` to
any body without ``text`` (or ``blocks``), and Teams' webhooks (Workflows, and the older Office 365 connectors)
post a message only for an Adaptive Card attachment. This layer renders the message for the receiver chosen with
``--notify-format json|slack|teams`` (env HARNESS_NOTIFY_FORMAT); delivery stays in harness.ops.notify.

Formats, from the receivers' documentation:
- slack: ``{"text": ...}`` (api.slack.com/messaging/webhooks), mrkdwn, with ``&``, ``<`` and ``>`` escaped as
  Slack asks (api.slack.com/reference/surfaces/formatting#escaping).
- teams: ``{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
  "content": <AdaptiveCard 1.4>}]}`` (learn.microsoft.com, "Send Adaptive Cards using an Incoming Webhook"; the
  same body a Workflows "when a Teams webhook request is received" flow posts).
"""
from __future__ import annotations

import os

from harness.errors import UsageError

FORMATS = ("json", "slack", "teams")
ENV = "HARNESS_NOTIFY_FORMAT"
_HEAD = ("run_id", "stage", "outcome", "summary", "host", "time")


def notify_format(given: str | None, env: dict[str, str] | None = None) -> str:
    """The format: the option, else $HARNESS_NOTIFY_FORMAT, else json; anything else is a usage error."""
    fmt = (given or (os.environ if env is None else env).get(ENV) or "json").strip().lower()
    if fmt not in FORMATS:
        raise UsageError(f"--notify-format / {ENV}: {fmt!r}: expected one of {', '.join(FORMATS)}")
    return fmt


def headline(body: dict) -> str:
    """``polymarket-pnl-harness: backfill failed on host-1 (run 2026…)``: what a phone notification shows."""
    return (f"polymarket-pnl-harness: {body.get('stage')} {body.get('outcome')} on {body.get('host')} "
            f"(run {body.get('run_id')})")


def details(body: dict) -> list[tuple[str, str]]:
    """The message's other fields (time, then any extra such as watermark_block), as (name, text) pairs."""
    out = [("time", str(body.get("time", "")))]
    out += [(k, ", ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in body.items()
            if k not in _HEAD]
    return out


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(body: dict, fmt: str) -> dict:
    """The JSON object to POST for ``fmt``: the message itself (json), Slack's ``text``, or a Teams card."""
    if fmt == "json":
        return body
    summary = str(body.get("summary") or "(no summary)")
    if fmt == "slack":
        lines = [f"*{_slack_escape(headline(body))}*", _slack_escape(summary)]
        lines.append(" · ".join(f"{k}: {_slack_escape(v)}" for k, v in details(body)))
        return {"text": "\n".join(lines)}
    if fmt == "teams":
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "text": headline(body), "weight": "Bolder", "size": "Medium", "wrap": True,
                 "color": "Attention" if body.get("outcome") in ("failed", "error") else "Warning"},
                {"type": "TextBlock", "text": summary, "wrap": True},
                {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in details(body)]},
            ],
        }
        return {"type": "message", "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}
    raise UsageError(f"notify format {fmt!r}: expected one of {', '.join(FORMATS)}")
