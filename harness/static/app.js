// Dashboard for the read-only P&L API. The API sends money as exact decimal strings; the page shows them as USD
// rounded to cents by formatUSD (string arithmetic, no float), with the exact value in each element's title
// (hover). Floats appear only to place points on the chart.
"use strict";

const $ = (id) => document.getElementById(id);

// "-1234.565" -> "-$1,234.57": cents rounded half away from zero (Python's Decimal ROUND_HALF_UP on the
// magnitude), thousands separated by commas, "-" before the "$", and no "-$0.00". Anything that is not a plain
// decimal string comes back unchanged.
function formatUSD(value) {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(String(value).trim());
  if (!m) return String(value);
  const frac = (m[3] || "").padEnd(3, "0");
  let cents = BigInt(m[2]) * 100n + BigInt(frac.slice(0, 2));
  if (frac[2] >= "5") cents += 1n;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const sign = m[1] === "-" && cents !== 0n ? "-" : "";
  return `${sign}$${whole}.${(cents % 100n).toString().padStart(2, "0")}`;
}

function signClass(s) { return s.startsWith("-") ? "neg" : (/^0(\.0+)?$/.test(s) ? "" : "pos"); }

// An element showing money: USD text, the exact decimal in its title, coloured by sign.
function setMoney(el, s, extra = "") {
  el.textContent = formatUSD(s);
  el.title = s;
  el.dataset.exact = s;
  el.className = `money ${signClass(s)} ${extra}`.trim();
  return el;
}

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

function renderTable(pnl) {
  const tbody = $("markets").querySelector("tbody");
  tbody.replaceChildren();
  for (const m of pnl.markets) {
    const tr = document.createElement("tr");
    tr.dataset.condition = m.condition_id;
    const cell = (text, cls) => {
      const td = document.createElement("td");
      td.textContent = text; td.className = cls; tr.appendChild(td); return td;
    };
    const name = cell(m.question || shortId(m.condition_id), m.question ? "market" : "market cid");
    name.title = [m.question, m.slug, m.condition_id].filter(Boolean).join("\n");
    cell(m.outcomes ? m.outcomes.join(" / ") : "", "outcomes");
    cell(m.status, "");
    cell(isoDay(m.resolved_time), "when");
    for (const [v, cls] of [[m.cashflow, "num"], [m.value, "num"], [m.pnl, "num pnl"]]) {
      setMoney(cell("", ""), v, cls);
    }
    tbody.appendChild(tr);
  }
  $("shown").textContent = pnl.markets.length < pnl.markets_total
    ? `(largest ${pnl.markets.length} of ${pnl.markets_total})` : `(${pnl.markets_total})`;
}

// Two step lines over time: realized P&L (accumulated at each resolution, carried to the data's end) and total
// P&L (the same, plus the open markets marked to price at the end). Each point carries its exact cumulative.
function renderChart(points) {
  const box = $("chart");
  box.replaceChildren();
  const NS = "http://www.w3.org/2000/svg";
  const W = 720, H = 240, L = 96, R = 12, T = 12, B = 28;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`); svg.setAttribute("id", "chart-svg");
  svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.appendChild(el); return el;
  };
  if (!points.length) { add("text", { x: L, y: H / 2 }, "no markets"); box.appendChild(svg); return; }
  const resolved = points.filter((p) => p.kind === "resolved");
  const last = points[points.length - 1];
  const realizedEnd = resolved.length ? resolved[resolved.length - 1].cumulative : "0.000000";
  const xs = points.map((p) => p.time), ys = points.map((p) => Number(p.cumulative));
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const y0 = Math.min(0, ...ys), y1 = Math.max(0, ...ys);
  const sx = (x) => L + (x1 === x0 ? (W - L - R) / 2 : (x - x0) / (x1 - x0) * (W - L - R));
  const sy = (y) => T + (y1 === y0 ? (H - T - B) / 2 : (y1 - y) / (y1 - y0) * (H - T - B));
  add("line", { x1: L, x2: W - R, y1: sy(0), y2: sy(0), stroke: "#c9ced6" });
  add("line", { x1: L, x2: L, y1: T, y2: H - B, stroke: "#c9ced6" });
  add("text", { x: L - 6, y: sy(y1) + 4, "text-anchor": "end" }, formatUSD(y1.toFixed(6)));
  add("text", { x: L - 6, y: sy(y0) + 4, "text-anchor": "end" }, formatUSD(y0.toFixed(6)));
  add("text", { x: L, y: H - 8 }, isoDay(x0));
  add("text", { x: W - R, y: H - 8, "text-anchor": "end" }, isoDay(x1));
  const steps = (pts, endValue) => {
    let d = `M ${sx(x0)} ${sy(0)}`, prev = 0;
    for (const p of pts) {
      const y = Number(p.cumulative);
      d += ` L ${sx(p.time)} ${sy(prev)} L ${sx(p.time)} ${sy(y)}`; prev = y;
    }
    return `${d} L ${sx(x1)} ${sy(prev)} L ${sx(x1)} ${sy(Number(endValue))}`;
  };
  add("path", { d: steps(points, last.cumulative), fill: "none", stroke: "#e08a00", "stroke-width": 2,
                "stroke-dasharray": "6 3", id: "total-line", "data-last": last.cumulative });
  add("path", { d: steps(resolved, realizedEnd), fill: "none", stroke: "#2f5fb3", "stroke-width": 2,
                id: "realized-line", "data-last": realizedEnd });
  points.forEach((p, i) => {
    const c = add("circle", { cx: sx(xs[i]), cy: sy(ys[i]), r: 3,
                              fill: p.kind === "open" ? "#e08a00" : "#2f5fb3", "data-cumulative": p.cumulative });
    const title = document.createElementNS(NS, "title");
    title.textContent = `${isoDay(p.time)} ${p.kind} ${p.question || p.condition_id || "open markets"}: `
      + `${formatUSD(p.pnl)} → ${formatUSD(p.cumulative)} (${p.cumulative})`;
    c.appendChild(title);
  });
  box.appendChild(svg);
  setMoney($("legend-realized"), realizedEnd);
  setMoney($("legend-total"), last.cumulative);
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
