// Leaderboard page over GET /leaderboard. Amounts are shown exactly as the API sends them (decimal strings).
"use strict";

const el = (id) => document.getElementById(id);

function signClass(s) { return s.startsWith("-") ? "neg" : (/^0\.0+$/.test(s) ? "" : "pos"); }

async function load() {
  const q = new URLSearchParams({ window: el("window").value, metric: el("metric").value, limit: el("limit").value });
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
  const tbody = el("leaders").querySelector("tbody");
  tbody.replaceChildren();
  for (const row of body.rows) {
    const tr = document.createElement("tr");
    const rank = document.createElement("td");
    rank.className = "num"; rank.textContent = row.rank;
    const wallet = document.createElement("td");
    const a = document.createElement("a");
    a.href = `/?wallet=${row.wallet}`; a.textContent = row.wallet; a.className = "cid";
    wallet.appendChild(a);
    const pnl = document.createElement("td");
    pnl.className = "num pnl " + signClass(row.pnl); pnl.textContent = row.pnl;
    tr.append(rank, wallet, pnl);
    tbody.appendChild(tr);
  }
  el("as-of").textContent = body.as_of_iso ? `Windows end at ${body.as_of_iso.replace("T", " ")}` : "Nothing built yet";
  el("status").textContent = body.rows.length ? "" : "No wallet has P&L in this window.";
}

const params = new URLSearchParams(location.search);
for (const k of ["window", "metric", "limit"]) if (params.get(k)) el(k).value = params.get(k);
el("board").addEventListener("submit", (e) => { e.preventDefault(); load(); });
load();
