// Leaderboard page over GET /leaderboard and /leaderboard/rank/{a}. Amounts show as USD (format.js), the exact
// decimal string on hover.
"use strict";

const el = (id) => document.getElementById(id);

function params() {
  return new URLSearchParams({ window: el("window").value, metric: el("metric").value, limit: el("limit").value });
}

async function load() {
  const q = params();
  el("status").textContent = "Loading…";
  let body;
  try {
    const r = await fetch(`/leaderboard?${q}`, { headers: { Accept: "application/json" } });
    body = await r.json();
    if (!r.ok) throw new Error(typeof body.detail === "string" ? body.detail : `HTTP ${r.status}: bad parameters`);
  } catch (e) {
    el("status").textContent = e.message;
    return;
  }
  history.replaceState(null, "", `?${q}`);
  const head = body.metric === "volume" ? "Volume" : "P&L";
  el("value-head").textContent = head;
  const tbody = el("leaders").querySelector("tbody");
  tbody.replaceChildren();
  for (const row of body.rows) {
    const tr = document.createElement("tr");
    const rank = document.createElement("td");
    rank.className = "num"; rank.textContent = row.rank; rank.dataset.label = "#";
    const wallet = document.createElement("td");
    wallet.dataset.label = "Wallet";
    const a = document.createElement("a");
    a.href = `/?wallet=${row.wallet}`; a.textContent = row.wallet; a.className = "cid";
    wallet.appendChild(a);
    const value = setMoney(document.createElement("td"), row.value, "num pnl");
    value.dataset.label = head;
    tr.append(rank, wallet, value);
    tbody.appendChild(tr);
  }
  el("as-of").textContent = body.as_of_iso ? `Windows end at ${body.as_of_iso.replace("T", " ")}` : "Nothing built yet";
  el("status").textContent = body.rows.length ? "" : "No wallet has rows in this window.";
}

async function findRank() {
  const out = el("rank");
  const q = new URLSearchParams({ window: el("window").value, metric: el("metric").value });
  try {
    const r = await fetch(`/leaderboard/rank/${encodeURIComponent(el("rank-address").value.trim())}?${q}`);
    const body = await r.json();
    if (!r.ok) throw new Error(r.status === 422 ? "not a wallet address" : `HTTP ${r.status}`);
    out.textContent = body.rank === null ? `not ranked (${body.ranked} wallets ranked)`
      : `#${body.rank} of ${body.ranked} · ${formatUSD(body.value)}`;
    out.title = body.value || "";
  } catch (e) {
    out.textContent = e.message;
  }
}

const initial = new URLSearchParams(location.search);
for (const k of ["window", "metric", "limit"]) if (initial.get(k)) el(k).value = initial.get(k);
el("board").addEventListener("submit", (e) => { e.preventDefault(); load(); });
el("rank-form").addEventListener("submit", (e) => { e.preventDefault(); findRank(); });
load();
