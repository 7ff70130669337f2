"""How the RPC client classifies failures: halve the window, retry with backoff, or stop with a clear error."""
from __future__ import annotations

import pytest
import requests

from harness.chain.rpc import RangeTooLarge, RetryPolicy, RpcClient, RpcError, _Transient

SECRET_URL = "https://polygon.example/v2/SECRETKEY123"


def _client(sleeps=None) -> RpcClient:
    return RpcClient(SECRET_URL, retry=RetryPolicy(attempts=4, base=0.01, cap=0.02),
                     sleep=(sleeps.append if sleeps is not None else lambda s: None))


def _http_error(status: int, body: str = "") -> requests.HTTPError:
    resp = requests.Response()
    resp.status_code = status
    resp._content = body.encode()
    resp.headers["Retry-After"] = "0"
    return requests.HTTPError(f"{status}", response=resp)


@pytest.mark.parametrize("err", [
    {"code": -32005, "message": "query returned more than 10000 results"},
    {"code": -32000, "message": "Log response size exceeded. You can make eth_getLogs requests with up to a 2K "
                                "block range"},
    {"code": -32602, "message": "block range is too wide"},
    {"code": -32000, "message": "exceed maximum block range: 5000"},
])
def test_range_refusals_halve_the_window(err):
    with pytest.raises(RangeTooLarge):
        _client()._check({"jsonrpc": "2.0", "id": 1, "error": err}, "eth_getLogs")


@pytest.mark.parametrize("err", [
    {"code": 429, "message": "Too Many Requests"},
    {"code": -32000, "message": "rate limit exceeded, try again later"},
    {"code": -32000, "message": "header not found"},
])
def test_busy_answers_are_retried(err):
    with pytest.raises(_Transient):
        _client()._check({"jsonrpc": "2.0", "id": 1, "error": err}, "eth_getLogs")


def test_other_rpc_errors_are_fatal_and_named():
    with pytest.raises(RpcError, match=r"eth_call.*-32000: execution reverted") as exc:
        _client()._check({"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "execution reverted"}},
                         "eth_call")
    assert not isinstance(exc.value, RangeTooLarge)


@pytest.mark.parametrize("status, body, kind", [
    (429, "", _Transient), (500, "", _Transient), (502, "", _Transient), (503, "", _Transient),
    (413, "", RangeTooLarge), (400, '{"error":"query returned more than 10000 results"}', RangeTooLarge),
    (401, "invalid api key", RpcError), (404, "", RpcError),
])
def test_http_statuses(status, body, kind):
    c = _client()

    def send():
        raise _http_error(status, body)

    with pytest.raises(kind) as exc:
        c._once(send, "eth_getLogs")
    if kind is RpcError:
        assert not isinstance(exc.value, RangeTooLarge)
        assert "SECRETKEY123" not in str(exc.value), "the key in the URL path must not leak into errors"


@pytest.mark.parametrize("exc", [requests.Timeout("slow"), requests.ConnectionError("reset"),
                                 requests.exceptions.ChunkedEncodingError("cut"), ValueError("Expecting value")])
def test_network_failures_and_cut_bodies_are_transient(exc):
    def send():
        raise exc

    with pytest.raises(_Transient):
        _client()._once(send, "eth_blockNumber")


def test_retries_back_off_then_succeed():
    sleeps: list[float] = []
    c = _client(sleeps)
    answers = iter([_http_error(503), requests.Timeout("t"), "0x10"])

    def send(endpoint):
        a = next(answers)
        if isinstance(a, Exception):
            raise a
        return a

    assert c._with_retries(send, "eth_blockNumber") == "0x10"
    assert len(sleeps) == 2 and c.stats.retries == 2


def test_giving_up_names_the_call_and_not_the_key():
    c = _client()

    def send(endpoint):
        raise requests.ConnectionError("refused")

    with pytest.raises(RpcError, match=r"eth_blockNumber: gave up after 4 attempts against https://polygon\.example")\
            as exc:
        c._with_retries(send, "eth_blockNumber")
    assert "SECRETKEY123" not in str(exc.value)
