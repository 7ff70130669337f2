// Dashboard for the read-only P&L API. The API sends money as exact decimal strings; the page shows them as USD
// rounded to cents by formatUSD (format.js: string arithmetic, no float), with the exact value in each element's
// title (hover). Floats appear only to place points on the chart (uPlot, served by the API from /vendor).
"use strict";

const $ = (id) => document.getElementById(id);

function shortId(cid) { return cid.length > 14 ? `${cid.slice(0, 8)}…${cid.slice(-6)}` : cid; }

function isoDay(t) { return t ? new Date(t * 1000).toISOString().replace("T", " ").slice(0, 16) : ""; }

async function getJSON(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" } });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    let msg = `HTTP ${r.status}`;
    if (body && typeof body.detail === "string") msg = body.detail;
    else if (r.status === 422) msg = "not a wallet address: expected 0x followed by 40 hex digits";
    const err = new Error(msg); err.status = r.status; throw err;
  }
  return body;
}

// A table row whose cells carry their column's name (data-label): on a phone each row stacks as a card.
function rowBuilder(table) {
  const labels = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
  return () => {
    const tr = document.createElement("tr");
    const cell = (text, cls = "") => {
      const td = document.createElement("td");
      td.textContent = text; td.className = cls;
      td.dataset.label = labels[tr.children.length] || "";
      tr.appendChild(td); return td;
    };
    const money = (v, cls = "num") => {
      const td = cell("", "");
      if (v === null || v === undefined) { td.className = cls; td.textContent = "–"; return td; }
      setMoney(td, v, cls); return td;
    };
    return { tr, cell, money };
  };
}

function marketCell(cell, r) {
  const name = cell(r.question || shortId(r.condition_id || r.market_id || ""), r.question ? "market" : "market cid");
  name.title = [r.question, r.slug, r.condition_id || r.market_id].filter(Boolean).join("\n");
  return name;
}

function renderTable(pnl) {
  const tbody = $("markets").querySelector("tbody");
  tbody.replaceChildren();
  const row = rowBuilder($("markets"));
  for (const m of pnl.markets) {
    const { tr, cell, money } = row();
    tr.dataset.condition = m.condition_id;
    marketCell(cell, m);
    cell(m.outcomes ? m.outcomes.join(" / ") : "", "outcomes");
    cell(m.status, "");
    cell(isoDay(m.resolved_time), "when");
    money(m.cashflow); money(m.value); money(m.pnl, "num pnl");
    tbody.appendChild(tr);
  }
  $("shown").textContent = pnl.markets.length < pnl.markets_total
    ? `(largest ${pnl.markets.length} of ${pnl.markets_total})` : `(${pnl.markets_total})`;
}

function renderPositions(body) {
  const tbody = $("positions").querySelector("tbody");
  tbody.replaceChildren();
  const row = rowBuilder($("positions"));
  for (const p of body.positions) {
    const { tr, cell, money } = row();
    tr.dataset.condition = p.condition_id; tr.dataset.outcome = p.outcome_index;
    marketCell(cell, p);
    cell(p.outcome || (p.outcome_index === 255 ? "LP" : `#${p.outcome_index}`), "outcome");
    const sh = cell(Number(p.shares).toLocaleString("en-US", { maximumFractionDigits: 2 }), "num shares");
    sh.title = `${p.shares} tracked · ${p.net_shares} held`;
    money(p.avg_price, "num plain"); money(p.price, "num plain"); money(p.value_usd, "num plain");
    money(p.pnl_usd, "num pnl");
    const pct = cell(p.pnl_pct === null ? "–" : `${p.pnl_pct.toFixed(2)}%`, "num pct");
    if (p.pnl_pct !== null) pct.classList.add(p.pnl_pct < 0 ? "neg" : (p.pnl_pct > 0 ? "pos" : "x"));
    cell(p.status, `status ${p.status}`);
    tbody.appendChild(tr);
  }
  setMoney($("positions-total"), body.pnl_total);
  $("positions-count").textContent = `(${body.positions.length})`;
}

// ---- history chart (uPlot) -------------------------------------------------------------------------------------

const chart = { plot: null, range: "1m", wallet: null, data: null };

function usdAxis(v) {
  const a = Math.abs(v);
  const s = a >= 1e6 ? `${(a / 1e6).toFixed(1)}M` : a >= 1e4 ? `${(a / 1e3).toFixed(0)}k` : a.toFixed(a < 10 ? 2 : 0);
  return `${v < 0 ? "-" : ""}$${s}`;
}

function renderHistory(body) {
  chart.data = body;
  const box = $("chart");
  box.replaceChildren();
  box.dataset.points = body.points.length;
  box.dataset.lastTotal = body.points.length ? body.points[body.points.length - 1].total : "";
  box.dataset.lastRealized = body.points.length ? body.points[body.points.length - 1].realized : "";
  if (!body.points.length) { box.textContent = "no history"; return; }
  const xs = body.points.map((p) => p.time);
  const exact = { 1: body.points.map((p) => p.realized), 2: body.points.map((p) => p.total) };
  const width = Math.max(260, Math.min(box.clientWidth || 720, 900));
  const hourly = body.step_seconds === 3600;
  const opts = {
    width, height: width < 500 ? 220 : 280,
    scales: { x: { time: true } },
    series: [
      { value: (u, t) => (t == null ? "" : isoDay(t)) },
      { label: "Realized", stroke: "#2f5fb3", width: 2, value: (u, v, s, i) => (i == null ? "" : formatUSD(exact[1][i])) },
      { label: "Total", stroke: "#e08a00", width: 2, dash: [6, 3],
        value: (u, v, s, i) => (i == null ? "" : formatUSD(exact[2][i])) },
    ],
    axes: [
      { values: (u, ticks) => ticks.map((t) => {
        const d = new Date(t * 1000).toISOString();
        return hourly ? d.slice(11, 16) : d.slice(5, 10);
      }) },
      { size: 64, values: (u, ticks) => ticks.map(usdAxis) },
    ],
    legend: { live: true },
    cursor: { points: { size: 7 } },
  };
  chart.plot = new uPlot(opts, [xs, body.points.map((p) => Number(p.realized)),
                                body.points.map((p) => Number(p.total))], box);
  const last = body.points[body.points.length - 1];
  setMoney($("legend-realized"), last.realized);
  setMoney($("legend-total"), last.total);
}

async function loadHistory(range) {
  chart.range = range;
  for (const b of document.querySelectorAll("#ranges button")) b.setAttribute("aria-pressed", b.dataset.range === range);
  const body = await getJSON(`/wallets/${chart.wallet}/pnl/history?range=${range}`);
  renderHistory(body);
}

// ---- activity --------------------------------------------------------------------------------------------------

const activity = { next: null, wallet: null };

function renderActivity(rows, append) {
  const tbody = $("activity").querySelector("tbody");
  if (!append) tbody.replaceChildren();
  const row = rowBuilder($("activity"));
  for (const a of rows) {
    const { tr, cell, money } = row();
    tr.dataset.tx = a.tx_hash;
    cell(a.side ? `${a.type} ${a.side.toLowerCase()}` : a.type, "type");
    cell(isoDay(a.time), "when");
    marketCell(cell, a);
    cell(a.outcome || (a.outcome_index === null ? "" : `#${a.outcome_index}`), "outcome");
    cell(Number(a.shares).toLocaleString("en-US", { maximumFractionDigits: 2 }), "num");
    money(a.price, "num plain"); money(a.usdc, "num plain"); money(a.fee, "num plain");
    const tx = cell(shortId(a.tx_hash), "cid"); tx.title = a.tx_hash;
    tbody.appendChild(tr);
  }
  $("more").hidden = !activity.next;
}

async function loadActivity(append) {
  const q = new URLSearchParams({ limit: "25" });
  if (append && activity.next) q.set("before", activity.next);
  const body = await getJSON(`/wallets/${activity.wallet}/activity?${q}`);
  activity.next = body.next_before;
  renderActivity(body.activity, append);
}

// ---- lookup ----------------------------------------------------------------------------------------------------

async function lookup(address) {
  const status = $("status");
  status.className = ""; status.textContent = "Loading…";
  $("result").hidden = true;
  const a = encodeURIComponent(address.trim());
  try {
    const [pnl, pos] = await Promise.all([getJSON(`/wallets/${a}/pnl`), getJSON(`/wallets/${a}/positions`)]);
    setMoney($("realized"), pnl.realized);
    setMoney($("unrealized"), pnl.unrealized);
    setMoney($("total"), pnl.total);
    $("counts").textContent = `${pnl.markets_resolved} resolved · ${pnl.markets_open} open`;
    const ui = $("ui-pnl");
    ui.replaceChildren();
    if (pnl.ui) {
      for (const k of ["realized", "unrealized", "total"]) {
        ui.appendChild(setMoney(document.createElement("span"), pnl.ui[k], `ui-${k}`));
      }
    } else {
      ui.textContent = "n/a";
    }
    $("watermark").textContent = `${pnl.wallet} · data to block ${pnl.watermark.block} (${pnl.watermark.time_iso})`;
    renderTable(pnl);
    renderPositions(pos);
    $("result").hidden = false;
    chart.wallet = activity.wallet = pnl.wallet;
    $("csv").href = `/wallets/${pnl.wallet}/activity.csv`;
    await Promise.all([loadHistory(chart.range), loadActivity(false)]);
    status.textContent = "";
    history.replaceState(null, "", `?wallet=${pnl.wallet}`);
  } catch (err) {
    status.className = "error";
    status.textContent = err.message;
  }
}

$("lookup").addEventListener("submit", (ev) => { ev.preventDefault(); lookup($("address").value); });
for (const b of document.querySelectorAll("#ranges button")) {
  b.addEventListener("click", () => loadHistory(b.dataset.range).catch((e) => { $("status").textContent = e.message; }));
}
$("more").addEventListener("click", () => loadActivity(true).catch((e) => { $("status").textContent = e.message; }));
const initial = new URLSearchParams(location.search).get("wallet");
if (initial) { $("address").value = initial; lookup(initial); }
