"""The small formulas of the API's routers, by property: history.combine against a brute-force sum, point_times'
shape, and positions.pnl_pct against Decimal rounding."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from harness.serve import history, positions


@st.composite
def history_rows(draw):
    """Conditions with a life (first point index, end index or open) and a P&L per evaluated point."""
    n = draw(st.integers(1, 12))
    times = [1_700_000_000 + 3600 * i for i in range(n)] + [history.EVERYTHING]
    rows, conds = [], []
    for c in range(draw(st.integers(0, 6))):
        first = draw(st.integers(0, n))
        end = draw(st.one_of(st.none(), st.integers(first, n + 3)))
        end_t = None if end is None else 1_700_000_000 + 3600 * end + draw(st.sampled_from([0, 1800]))
        final = draw(st.integers(-10**9, 10**9))
        per = {}
        for t in times[first:]:
            if end_t is not None and t >= end_t:
                break
            per[t] = (draw(st.integers(-10**9, 10**9)), draw(st.booleans()))
            rows.append(("at", t, f"c{c}", per[t][0], per[t][1]))
        if end_t is not None:
            rows.append(("end", end_t, f"c{c}", final, True))
        conds.append((per, end_t, final))
    return times, rows, conds


@given(history_rows())
def test_combine_is_the_sum_over_conditions(case):
    times, rows, conds = case
    want = []
    for t in times:
        real = total = 0
        for per, end_t, final in conds:
            if end_t is not None and end_t <= t:
                real, total = real + final, total + final
            elif t in per:
                total += per[t][0]
                real += per[t][0] if per[t][1] else 0
        want.append((t, real, total))
    assert history.combine(times, rows) == want


@given(st.sampled_from(["1d", "1w", "1m", "all"]), st.integers(10**9, 2 * 10**9), st.integers(0, 400 * 86400))
def test_point_times_are_steps_ending_at_or_before_the_end(rng, end, back):
    step, count = history.RANGES[rng]
    times = history.point_times(rng, end, end - back)
    assert all(t % step == 0 for t in times) and times == sorted(set(times))
    assert times[-1] <= end < times[-1] + step
    if count is not None:
        assert len(times) == count
    else:
        first = end - back
        assert times[0] <= first < times[0] + step or times[0] == times[-1]


@given(st.integers(-10**15, 10**15), st.integers(-10, 10**15))
def test_pnl_pct_is_decimal_half_up(pnl, cost):
    got = positions.pnl_pct(pnl, cost)
    if cost <= 0:
        assert got is None
        return
    exact = (Decimal(pnl) * 100 / Decimal(cost)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert got == float(exact)
