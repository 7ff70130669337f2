// Dashboard for the read-only P&L API. Numbers are shown exactly as the API sends them (decimal strings);
// they become floats only to place points on the chart.
"use strict";

const $ = (id) => document.getElementById(id);

function signClass(s) { return s.startsWith("-") ? "neg" : (/^0\.0+$/.test(s) ? "" : "pos"); }

function setMoney(el, s) { el.textContent = s; el.className = "money " + signClass(s); }

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

function renderTable(pnl) {
  const tbody = $("markets").querySelector("tbody");
  tbody.replaceChildren();
  for (const m of pnl.markets) {
    const tr = document.createElement("tr");
    tr.dataset.condition = m.condition_id;
    const cells = [[m.condition_id, "cid"], [m.status, ""], [isoDay(m.resolved_time), ""],
                   [m.cashflow, "num"], [m.value, "num"], [m.pnl, "num pnl " + signClass(m.pnl)]];
    for (const [text, cls] of cells) {
      const td = document.createElement("td");
      td.textContent = text; td.className = cls; tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
  $("shown").textContent = pnl.markets.length < pnl.markets_total
    ? `(largest ${pnl.markets.length} of ${pnl.markets_total})` : `(${pnl.markets_total})`;
}

function renderChart(points) {
  const box = $("chart");
  box.replaceChildren();
  const NS = "http://www.w3.org/2000/svg";
  const W = 720, H = 240, L = 90, R = 12, T = 12, B = 28;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("width", W); svg.setAttribute("height", H); svg.setAttribute("id", "chart-svg");
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.appendChild(el); return el;
  };
  if (!points.length) { add("text", { x: L, y: H / 2 }, "no markets"); box.appendChild(svg); return; }
  const xs = points.map((p) => p.time), ys = points.map((p) => Number(p.cumulative));
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const y0 = Math.min(0, ...ys), y1 = Math.max(0, ...ys);
  const sx = (x) => L + (x1 === x0 ? (W - L - R) / 2 : (x - x0) / (x1 - x0) * (W - L - R));
  const sy = (y) => T + (y1 === y0 ? (H - T - B) / 2 : (y1 - y) / (y1 - y0) * (H - T - B));
  add("line", { x1: L, x2: W - R, y1: sy(0), y2: sy(0), stroke: "#c9ced6" });
  add("line", { x1: L, x2: L, y1: T, y2: H - B, stroke: "#c9ced6" });
  add("text", { x: L - 6, y: sy(y1) + 4, "text-anchor": "end" }, y1.toFixed(2));
  add("text", { x: L - 6, y: sy(y0) + 4, "text-anchor": "end" }, y0.toFixed(2));
  add("text", { x: L, y: H - 8 }, isoDay(x0));
  add("text", { x: W - R, y: H - 8, "text-anchor": "end" }, isoDay(x1));
  let d = `M ${sx(xs[0])} ${sy(0)}`;
  points.forEach((p, i) => { d += ` L ${sx(xs[i])} ${sy(i ? ys[i - 1] : 0)} L ${sx(xs[i])} ${sy(ys[i])}`; });
  add("path", { d, fill: "none", stroke: "#2f5fb3", "stroke-width": 2 });
  points.forEach((p, i) => {
    const c = add("circle", { cx: sx(xs[i]), cy: sy(ys[i]), r: 3,
                              fill: p.kind === "open" ? "#e08a00" : "#2f5fb3", "data-cumulative": p.cumulative });
    const title = document.createElementNS(NS, "title");
    title.textContent = `${isoDay(p.time)} ${p.kind} ${p.condition_id || "open markets"}: ${p.pnl} → ${p.cumulative}`;
    c.appendChild(title);
  });
  box.appendChild(svg);
}

async function lookup(address) {
  const status = $("status");
  status.className = ""; status.textContent = "Loading…";
  $("result").hidden = true;
  const a = encodeURIComponent(address.trim());
  try {
    const [pnl, tl] = await Promise.all([getJSON(`/wallets/${a}/pnl`), getJSON(`/wallets/${a}/timeline`)]);
    setMoney($("realized"), pnl.realized);
    setMoney($("unrealized"), pnl.unrealized);
    setMoney($("total"), pnl.total);
    $("counts").textContent = `${pnl.markets_resolved} resolved · ${pnl.markets_open} open`;
    $("ui-pnl").textContent = pnl.ui ? `${pnl.ui.realized} · ${pnl.ui.unrealized} · ${pnl.ui.total}` : "n/a";
    $("ui-pnl").className = "money " + (pnl.ui ? signClass(pnl.ui.total) : "");
    $("watermark").textContent = `${pnl.wallet} · data to block ${pnl.watermark.block} (${pnl.watermark.time_iso})`;
    renderTable(pnl);
    renderChart(tl.points);
    $("result").hidden = false;
    status.textContent = "";
    history.replaceState(null, "", `?wallet=${pnl.wallet}`);
  } catch (err) {
    status.className = "error";
    status.textContent = err.message;
  }
}

$("lookup").addEventListener("submit", (ev) => { ev.preventDefault(); lookup($("address").value); });
const initial = new URLSearchParams(location.search).get("wallet");
if (initial) { $("address").value = initial; lookup(initial); }
