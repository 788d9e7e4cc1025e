// Validates an AsyncAPI document with the AsyncAPI project's own parser (@asyncapi/parser, the validator behind
// `asyncapi validate`). Usage: node validate_asyncapi.cjs FILE; prints the diagnostics as JSON, one per line,
// and exits 1 if any is an error. NODE_PATH points at the node_modules that scripts/test.sh installs.
const fs = require("fs");
const { Parser } = require("@asyncapi/parser");

async function main() {
  const text = fs.readFileSync(process.argv[2], "utf8");
  const { document, diagnostics } = await new Parser().parse(text);
  for (const d of diagnostics) {
    console.log(JSON.stringify({ severity: d.severity, code: d.code, path: d.path.join("."), message: d.message }));
  }
  const errors = diagnostics.filter((d) => d.severity === 0);
  if (!document || errors.length) process.exit(1);
  console.log(`valid AsyncAPI ${document.version()}`);
}

main().catch((err) => { console.error(err); process.exit(3); });
