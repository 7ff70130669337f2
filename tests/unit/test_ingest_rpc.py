"""How the RPC client classifies failures: halve the window, retry with backoff, or stop with a clear error."""
from __future__ import annotations

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from harness.chain.rpc import (
    RangeTooLarge,
    RetryPolicy,
    RpcClient,
    RpcError,
    WindowTimedOut,
    _Transient,
    split_urls,
)
from harness.errors import UsageError

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


@given(st.lists(st.sampled_from(["http://a", "http://b:8545/k", "https://c/v2/x"]), min_size=1, max_size=6),
       st.booleans())
def test_endpoint_lists_keep_order_drop_repeats_and_comma_lists_mean_the_same(urls, joined):
    got = split_urls(",".join(urls) if joined else urls)
    assert got == list(dict.fromkeys(urls))
    assert split_urls([" , ".join(urls)]) == got


def test_no_endpoint_is_one_clear_error():
    with pytest.raises(UsageError, match="no RPC endpoint URL"):
        split_urls(" , ")


class TwoEndpoints(RpcClient):
    """``down`` endpoints refuse connections; the others answer eth_blockNumber."""

    def __init__(self, down: set[str], **kw):
        self.now = 0.0
        super().__init__(["http://first:1/AAAAKEY1234567890", "http://second:2"], sleep=lambda s: None,
                         clock=lambda: self.now, retry=RetryPolicy(attempts=6, base=0, cap=0), **kw)
        self.down, self.hits = down, []

    def _post(self, ep, payload):
        self.hits.append(ep.url.split(":")[1].strip("/"))
        if ep.url.split(":")[1].strip("/") in self.down:
            raise requests.ConnectionError("connection refused")
        return {"jsonrpc": "2.0", "id": payload["id"], "result": "0x10"}


def test_an_endpoint_failing_n_times_in_a_row_rests_and_the_next_serves(caplog):
    c = TwoEndpoints({"first"}, fail_limit=2, cool_down=30)
    assert c.block_number() == 16
    assert c.hits == ["first", "first", "second"] and c.stats.failovers == 1
    assert c.block_number() == 16 and c.hits[-1] == "second"  # stays on the one that works
    assert "AAAAKEY1234567890" not in caplog.text and "failover" in caplog.text
    c.down = {"second"}
    c.now = 31.0  # the first one's rest is over
    assert c.block_number() == 16 and c.hits[-1] == "first"


def test_a_window_hung_up_on_twice_is_given_back_for_halving():
    c = TwoEndpoints(set(), halve_after=2)
    c._post = lambda ep, payload: (_ for _ in ()).throw(requests.ReadTimeout("read timed out"))
    with pytest.raises(WindowTimedOut):
        c.get_logs(0, 9)
    assert c.stats.timeout_halvings == 1
    with pytest.raises(RpcError, match="gave up after 6 attempts"):  # a single block cannot be halved: retried
        c.get_logs(5, 5)


def test_get_logs_sends_a_whole_topic_filter_with_any_positions_as_null():
    """check-wallet asks for a wallet at an indexed position: [[topic0s], null, [wallet]] goes out as given, and
    a topic filter overrides topic0s (which alone still means [[topic0s]])."""
    sent = []
    c = _client()
    c.call = lambda method, params: sent.append(params[0]) or []
    w = "0x" + "0" * 24 + "ab" * 20
    c.get_logs(5, 9, ["0xc"], ["0xt0"], [["0xt0", "0xt1"], None, [w]])
    c.get_logs(5, 9, ["0xc"], ["0xt0"])
    assert sent[0] == {"fromBlock": "0x5", "toBlock": "0x9", "address": ["0xc"], "topics": [["0xt0", "0xt1"], None, [w]]}
    assert sent[1]["topics"] == [["0xt0"]]
