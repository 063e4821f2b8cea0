// Bundles src/ into content-hashed files and writes index.html beside them (functions/dashboard_api/static by
// default; WEB_OUT=dir for another place). `node build.mjs` from web/ (make web runs it).
import * as esbuild from "esbuild";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, process.env.WEB_OUT ?? "../functions/dashboard_api/static");
fs.rmSync(out, { recursive: true, force: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/main.tsx"],
  bundle: true,
  splitting: true, // Supabase Auth is a separate chunk, loaded only where it is configured
  format: "esm",
  outdir: path.join(out, "assets"),
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  assetNames: "[name]-[hash]",
  minify: true,
  metafile: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  target: ["es2020"],
  legalComments: "none",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});

const rel = (file) => "/" + path.relative(out, path.resolve(here, file)).split(path.sep).join("/");
let script, style;
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (meta.entryPoint === "src/main.tsx") {
    script = rel(file);
    if (meta.cssBundle) style = rel(meta.cssBundle);
  }
}
if (!script || !style) throw new Error("esbuild produced no entry script or stylesheet");

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vidstats</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${style}">
<script type="module" src="${script}"></script>
</head>
<body>
<div id="app"><p class="boot">Loading vidstats…</p></div>
<noscript>The vidstats dashboard needs JavaScript.</noscript>
</body>
</html>
`;
fs.writeFileSync(path.join(out, "index.html"), html);

// What the first page load costs (bench.web reads it): the entry script, its static imports and the stylesheet.
const outputs = result.metafile.outputs;
const initial = new Set();
const visit = (file) => {
  if (initial.has(file)) return;
  initial.add(file);
  for (const imp of outputs[file].imports) if (imp.kind === "import-statement") visit(imp.path);
};
visit(Object.keys(outputs).find((f) => rel(f) === script));
initial.add(Object.keys(outputs).find((f) => rel(f) === style));
const files = Object.keys(outputs).map((f) => {
  const bytes = fs.readFileSync(path.resolve(here, f));
  return { path: rel(f), bytes: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length, initial: initial.has(f) };
});
fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify({ script, style, files }, null, 1));
const kb = (n) => (n / 1024).toFixed(1);
const first = files.filter((f) => f.initial);
console.log(`web: ${out}: first load ${kb(first.reduce((a, f) => a + f.gzip, 0))} KiB gzipped ` +
  `(${first.length} files), all ${kb(files.reduce((a, f) => a + f.gzip, 0))} KiB`);
