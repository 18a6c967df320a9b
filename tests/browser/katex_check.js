// Renders each LaTeX string of a JSON array with KaTeX (display mode, errors thrown,
// strict mode as errors) and prints one JSON line per string: {"ok": true} or the error.
const fs = require("fs");
const katex = require("katex");
const inputs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = inputs.map((latex) => {
  try {
    katex.renderToString(latex, { displayMode: true, throwOnError: true, strict: "error" });
    return { ok: true };
  } catch (error) {
    return { ok: false, error: String(error.message || error) };
  }
});
process.stdout.write(JSON.stringify(out));
