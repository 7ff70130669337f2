// Money formatting shared by the dashboard and the leaderboard. The API sends money as exact decimal strings; the
// pages show USD rounded to cents by formatUSD (string arithmetic, no float), with the exact value on hover.
"use strict";

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

function signClass(s) { return String(s).startsWith("-") ? "neg" : (/^0(\.0+)?$/.test(s) ? "" : "pos"); }

// An element showing money: USD text, the exact decimal in its title, coloured by sign.
function setMoney(el, s, extra = "") {
  el.textContent = formatUSD(s);
  el.title = s;
  el.dataset.exact = s;
  el.className = `money ${signClass(s)} ${extra}`.trim();
  return el;
}
