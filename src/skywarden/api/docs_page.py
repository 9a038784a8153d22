"""``/docs``: a small self-contained page that renders /openapi.json (no CDN, no build)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

__all__ = ["docs_page"]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Skywarden API</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:62em;padding:1em 1.5em;
color:#1b1f24;background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.6em 0 .4em;
border-bottom:1px solid #ccd;text-transform:capitalize}
details{border:1px solid #d8dbe0;border-radius:6px;margin:.35em 0;padding:.2em .6em}
summary{cursor:pointer;padding:.2em 0}
.m{display:inline-block;min-width:4.5em;font:600 .8em monospace;padding:.1em .4em;
border-radius:4px;color:#fff;text-align:center;margin-right:.5em}
.get{background:#2f6fb3}.post{background:#2e8b57}.delete{background:#b33a3a}
.ws{background:#7a4fb3}code,pre{font-family:ui-monospace,monospace;font-size:.86em}
pre{background:#f5f6f8;padding:.6em;overflow:auto;border-radius:4px;max-height:30em}
.role{float:right;color:#555;font-size:.85em}table{border-collapse:collapse}
td,th{border-bottom:1px solid #e3e5e8;padding:.2em .6em;text-align:left;vertical-align:top}
</style></head><body>
<h1>Skywarden live service API</h1>
<p id="info">Loading <a href="/openapi.json">/openapi.json</a>&hellip;</p>
<div id="paths"></div>
<h2>Schemas</h2><div id="schemas"></div>
<script>
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",
  '"':"&quot;"}[c]));
const json = o => "<pre>" + esc(JSON.stringify(o, null, 2)) + "</pre>";
function schemaOf(content) {
  if (!content) return "";
  return Object.entries(content).map(([media, c]) =>
    "<div><code>" + esc(media) + "</code>" + json(c.schema) + "</div>").join("");
}
function operation(path, method, op) {
  const ws = op["x-websocket"];
  let h = "<details><summary><span class='m " + (ws ? "ws" : method) + "'>" +
    (ws ? "WS" : method.toUpperCase()) + "</span><code>" + esc(path) + "</code> " +
    esc(op.summary || "") + "<span class='role'>role: " + esc(op["x-role"]) +
    "</span></summary>";
  if (op.description) h += "<p>" + esc(op.description) + "</p>";
  if (op.parameters && op.parameters.length) {
    h += "<table><tr><th>parameter</th><th>in</th><th>type</th><th></th></tr>";
    for (const p of op.parameters) h += "<tr><td><code>" + esc(p.name) + "</code>" +
      (p.required ? " *" : "") + "</td><td>" + esc(p.in) + "</td><td>" +
      esc(p.schema.type) + "</td><td>" + esc(p.description || "") + "</td></tr>";
    h += "</table>";
  }
  if (op.requestBody) h += "<p><b>Body</b></p>" + schemaOf(op.requestBody.content);
  for (const [code, r] of Object.entries(op.responses || {}))
    h += "<p><b>" + esc(code) + "</b> " + esc(r.description) + "</p>" +
      (code < 300 ? schemaOf(r.content) : "");
  return h + "</details>";
}
fetch("/openapi.json").then(r => r.json()).then(spec => {
  document.getElementById("info").innerHTML = esc(spec.info.description) +
    " Version " + esc(spec.info.version) + ". Send <code>Authorization: Bearer " +
    "&lt;token&gt;</code>. Raw spec: <a href='/openapi.json'>/openapi.json</a>.";
  const byTag = {};
  for (const [path, ops] of Object.entries(spec.paths))
    for (const [method, op] of Object.entries(ops))
      (byTag[(op.tags || ["other"])[0]] ||= []).push(operation(path, method, op));
  document.getElementById("paths").innerHTML = Object.entries(byTag).map(([t, ops]) =>
    "<h2>" + esc(t) + "</h2>" + ops.join("")).join("");
  document.getElementById("schemas").innerHTML = Object.entries(
    spec.components.schemas).map(([n, s]) => "<details><summary><code>" + esc(n) +
    "</code></summary>" + json(s) + "</details>").join("");
}).catch(e => { document.getElementById("info").textContent = "Cannot load the spec: " + e; });
</script></body></html>
"""


async def docs_page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)
