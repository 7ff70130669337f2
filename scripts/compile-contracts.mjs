// Compile contracts/*.sol with the pinned solc-js in .tools/ into harness/data/contracts/<Name>.json (abi + runtime
// bytecode). Deterministic: fixed optimizer settings, no metadata hash and no CBOR tail, sorted file list, stable
// JSON. Usage: node scripts/compile-contracts.mjs [outDir]   (scripts/compile-contracts.sh wraps it).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const require = createRequire(path.join(root, ".tools", "package.json"));
const solc = require("solc");
const outDir = path.resolve(process.argv[2] || path.join(root, "harness", "data", "contracts"));
const srcDir = path.join(root, "contracts");
const files = fs.readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort();
const sources = {};
for (const f of files) sources[f] = { content: fs.readFileSync(path.join(srcDir, f), "utf8") };
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "shanghai",
    viaIR: false,
    metadata: { bytecodeHash: "none", appendCBOR: false },
    outputSelection: { "*": { "*": ["abi", "evm.deployedBytecode.object"] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
for (const e of out.errors || []) process.stderr.write(e.formattedMessage + "\n");
if (errors.length) process.exit(1);
fs.mkdirSync(outDir, { recursive: true });
let n = 0;
for (const f of files) {
  for (const [name, c] of Object.entries(out.contracts[f] || {})) {
    const code = c.evm.deployedBytecode.object;
    if (!code || c.abi.length === 0) continue; // interfaces, abstract contracts, internal-only libraries
    const art = { contractName: name, source: "contracts/" + f, compiler: "solc-js " + solc.version(),
                  settings: input.settings, abi: c.abi, deployedBytecode: "0x" + code };
    fs.writeFileSync(path.join(outDir, name + ".json"), JSON.stringify(art, null, 1) + "\n");
    n++;
  }
}
process.stdout.write(`compiled ${files.length} sources into ${n} artefacts in ${outDir} (solc ${solc.version()})\n`);
