"""One error root, one redaction function, one set of option validators: the harness's edge rules in one place.

Why: every output path (terminal, exceptions, gate_runs.detail, reports, junit, ingest_runs) must hide the same
secrets the same way, and every command must end in one line and a known exit code. A leaf module (imports only
the standard library) so anything may use it.
"""
from __future__ import annotations

import os
import re
import threading
from urllib.parse import urlsplit

EXIT_OK, EXIT_CHECK_FAILED, EXIT_ERROR = 0, 1, 2


class HarnessError(Exception):
    """Something the harness refused or failed at on purpose; str() is one line a user can act on (exit 2)."""

    exit_code = EXIT_ERROR


class UsageError(HarnessError, ValueError):
    """A bad option, argument or input file; nothing was touched (exit 2)."""


class CheckFailed(HarnessError):
    """A gate refused, gaps were found, a validation failed (exit 1)."""

    exit_code = EXIT_CHECK_FAILED


# --- redaction ----------------------------------------------------------------------------------------------------

MASK = "***"
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`\\]+")
_KV = re.compile(r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth|key)"
                 r"(\s*[=:]\s*)(?!\*\*\*)([^\s&,;'\"<>]+)")
#: A path segment an operator may read: a version (v2), a short number (137) or lower-case words joined by - _ .
#: (rpc, polygon-mainnet, ext_bor). Every other segment of an endpoint's path may be a key, whatever its length
#: (a key of 9 characters is as secret as one of 32), so it is masked; the host and port always stay readable.
_READABLE_SEGMENT = re.compile(r"^(?:v\d{1,3}|\d{1,6}|[a-z]+(?:[-_.][a-z]+)*|\*\*\*)$")
#: Schemes whose "path" is a local directory, never a key (chdb:///var/lib/pnl).
_LOCAL_SCHEMES = ("chdb", "file")
#: Where a comma-separated endpoint list (POLYGON_RPC_URL=url1,url2) starts its next URL.
_NEXT_URL = re.compile(r",\s*(?=[A-Za-z][A-Za-z0-9+.\-]*://)")


def _keylike(segment: str) -> bool:
    return bool(segment) and not (len(segment) <= 32 and _READABLE_SEGMENT.match(segment))


_SECRET_ENV = re.compile(r"(?i)(PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL|_URL$|_DSN$)")
_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Hide ``value`` (and, for a URL, its user info, query and key-like path parts) wherever it appears.

    A comma-separated list of URLs is taken URL by URL: each host stays readable, so an operator can tell which
    node failed. A chdb:// (local directory) URL has no secret part."""
    if not value or not isinstance(value, str):
        return
    urls = _NEXT_URL.split(value) if "://" in value else []
    if len(urls) > 1:
        for u in urls:
            register_secret(u)
        return
    parts = [value]
    if "://" in value:  # a URL: its secret parts, not its host (an endpoint's host is fine to print)
        try:
            u = urlsplit(value)
            parts = [u.username or "", u.password or "", u.query, u.fragment]
            if u.scheme.lower() not in _LOCAL_SCHEMES:
                parts += [s for s in u.path.split("/") if _keylike(s)]
            parts += [kv.split("=", 1)[-1] for kv in u.query.split("&") if "=" in kv]
        except ValueError:
            pass
    with _lock:
        _secrets.update(p for p in parts if p and len(p) >= 6)


def register_env_secrets(env: dict[str, str] | None = None) -> None:
    """Register every environment value whose name says it is a secret or a URL (keys often sit in URLs)."""
    env = os.environ if env is None else env
    for k, v in env.items():
        if _SECRET_ENV.search(k) and not k.startswith(("PYTEST_", "HARNESS_")):
            register_secret(v)


def redact_url(url: str) -> str:
    """scheme://host[:port]/path with user info, query, fragment and key-like path segments masked."""
    try:
        u = urlsplit(url)
        host = u.hostname or ""
        port = u.port
    except ValueError:
        return _URL.sub(lambda m: m.group(0).split("://", 1)[0] + "://" + MASK, url) if "://" in url else MASK
    netloc = (MASK + "@" if (u.username or u.password) else "") + (f"[{host}]" if ":" in host else host)
    if port:
        netloc += f":{port}"
    local = u.scheme.lower() in _LOCAL_SCHEMES
    segs = [MASK if (not local and _keylike(s)) else s for s in u.path.split("/")]
    out = f"{u.scheme}://{netloc}{'/'.join(segs)}"
    if u.query:
        out += "?" + MASK
    if u.fragment:
        out += "#" + MASK
    return out


def _redact_match(m: re.Match) -> str:
    """One URL (or comma-separated list) found in text; punctuation ending the sentence is kept as it is."""
    url, tail = re.match(r"^(.*?)([.,:;!?)\]]*)$", m.group(0)).groups()
    return ",".join(redact_url(u) for u in _NEXT_URL.split(url)) + tail


def redact(text: object) -> str:
    """``text`` as a string with every URL's secrets, every registered secret and key=value secrets masked.

    The one function every print, log, exception, gate detail, report and junit property goes through.
    """
    s = text if isinstance(text, str) else str(text)
    if not s:
        return s
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in s:
            s = s.replace(secret, MASK)
    s = _URL.sub(_redact_match, s)
    return _KV.sub(lambda m: m.group(1) + m.group(2) + MASK, s)


def first_line(exc: BaseException, limit: int = 400) -> str:
    """One redacted line describing ``exc`` (its first non-empty line, else its type)."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return redact(line)[:limit]


# --- library-side option checks (the command line's types in harness/cli/options.py share the rules) ------------


def require(cond: bool, message: str) -> None:
    """Raise UsageError(message) unless ``cond``: the library-side twin of the argparse types."""
    if not cond:
        raise UsageError(message)


def check_http_url(url: str, what: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """``url`` when it is a well-formed URL of one of ``schemes`` with a host (and a numeric port if any); else
    UsageError naming ``what``, the URL redacted. Checked before a command touches anything, so a typo is one line
    and exit 2 rather than a crash, or retries, at the first request."""
    shown = redact_url(url)
    require(isinstance(url, str) and url.strip() == url and not any(c.isspace() or ord(c) < 32 for c in url),
            f"{what}: {shown!r} contains spaces or control characters")
    try:
        u = urlsplit(url)
        host, _port = u.hostname, u.port
    except ValueError as exc:
        raise UsageError(f"{what}: {shown!r} is not a valid URL ({exc})") from None
    require(u.scheme.lower() in schemes,
            f"{what}: {shown!r}: scheme must be {' or '.join(schemes)} (got {u.scheme or 'none'!r})")
    require(bool(host), f"{what}: {shown!r} has no host")
    return url


def check_span(from_block: int | None, to_block: int | None, what: str = "block range") -> None:
    """Both ends non-negative and ordered, named the way the options are."""
    for name, v in (("from_block", from_block), ("to_block", to_block)):
        if v is not None:
            require(isinstance(v, int) and not isinstance(v, bool), f"{what}: {name}={v!r} is not an integer")
            require(v >= 0, f"{what}: {name}={v} must not be negative")
    if from_block is not None and to_block is not None:
        require(from_block <= to_block, f"{what}: cannot have to_block={to_block} < from_block={from_block}")
