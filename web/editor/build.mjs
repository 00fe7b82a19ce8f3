// Builds ../static/editor.js (CodeMirror 6 + Liquid) and copies htmx into
// ../static, then records the SHA-256 of the sources and outputs in
// ../static/assets.sum, which web's Go test checks so a stale or
// hand-edited bundle fails CI. Run: npm ci && node build.mjs
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const out = join(here, "..", "static");

await build({
  entryPoints: [join(here, "src", "editor.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "eof",
  outfile: join(out, "editor.js"),
  logLevel: "warning",
});
copyFileSync(join(here, "node_modules", "htmx.org", "dist", "htmx.min.js"), join(out, "htmx.min.js"));

const sha = (p) => createHash("sha256").update(readFileSync(p)).digest("hex");
const sources = ["build.mjs", "package.json", "package-lock.json", ...readdirSync(join(here, "src")).sort().map((f) => "src/" + f)];
let sum = "";
for (const f of sources) sum += `${sha(join(here, f))}  editor/${f}\n`;
for (const f of ["editor.js", "htmx.min.js"]) sum += `${sha(join(out, f))}  static/${f}\n`;
writeFileSync(join(out, "assets.sum"), sum);
console.log(sum);
