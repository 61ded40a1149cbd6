// The dse results page. Data comes from the inline JSON block; nothing is fetched from the
// network except, when served by `dse browse`, the server's own /api/trial/N (a design's
// breakdown), /api/importance and /api/pareto.csv. page_table.js and page_detail.js follow this
// file in the same script (dse.browse.page.PAGE_SCRIPTS).
"use strict";

const D = JSON.parse(document.getElementById("dse-data").textContent);
const OBJ = D.objectives;                       // [{name, direction, unit}]
const OBJ_COLS = D.columns.objectives;          // objective_<name>
const PAR_COLS = D.columns.parameters;          // param_<name>
const DER_COLS = D.columns.derived;             // derived_<name>
const HEAD = D.headers;
D.designs = (() => {                            // columns -> one object per design
  const cols = D.designs.columns, values = D.designs.values, front = D.designs.front;
  const rows = new Array(front.length);
  for (let i = 0; i < front.length; i++) {
    const d = { front: front[i], trials: D.designs.trials[i] };
    for (let k = 0; k < cols.length; k++) d[cols[k]] = values[k][i];
    rows[i] = d;
  }
  return rows;
})();
const BY_NUMBER = new Map(D.designs.map((d) => [d.trial_number, d]));
const FRONT_COLOR = "#1f6feb";
const GREY = "#9aa0aa";
const REF_COLOR = "#d1242f";
const PALETTE = ["#1f6feb", "#e36209", "#2da44e", "#8250df", "#bf3989", "#0a7d86", "#9a6700", "#57606a"];
const SYMBOLS = ["circle", "square", "triangle-up", "star", "triangle-down", "pentagon", "hexagon", "cross"];
const GL_POINTS = 3000;                         // above this many markers a plot uses WebGL
const ALL_COLS = [...PAR_COLS, ...OBJ_COLS, ...DER_COLS];
const LOG = new Set((D.log_parameters || []).map((n) => "param_" + n));
const CATEGORICAL = new Set(ALL_COLS.filter((c) => D.designs.some((d) => typeof d[c] === "string" || typeof d[c] === "boolean")));
let brushed = null;                             // Set of trial numbers, or null when no brush
let selectedTrials = [];                        // designs in the breakdown
const compareSet = new Set();                   // designs ticked in the table

function fmt(v) {
  if (v === null || v === undefined) return "-";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) return v.join(" ");
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toPrecision(4);
  return a >= 1e4 ? Math.round(v).toLocaleString("en-US") : String(Number(v.toPrecision(4)));
}

function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const c of children || []) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}

function bare(column) { return column.replace(/^(param|objective|derived)_/, ""); }
function axisTitle(o) { return o.unit ? `${o.name} [${o.unit}] (${o.direction})` : `${o.name} (${o.direction})`; }
function columnTitle(c) {
  const o = OBJ.find((x) => "objective_" + x.name === c);
  return o ? axisTitle(o) : (HEAD[c] || c);
}

let webglChecked = null;
function webgl() {
  if (webglChecked === null) {
    try { webglChecked = !!document.createElement("canvas").getContext("webgl"); } catch (err) { webglChecked = false; }
  }
  return webglChecked;
}

// --- summary and sources -----------------------------------------------------------------
function renderSummary() {
  const m = D.metadata, c = D.counts;
  const status = el("span", { class: "badge " + m.status, text: m.status });
  const parts = [
    `${c.trials} trials`, `${c.feasible} feasible`, `${c.front} on the front`,
    `suite ${m.suite || "-"}`, `sampler ${m.sampler || "-"}`, `seed ${m.seed ?? "-"}`,
  ];
  if (c.front > c.front_shown) parts.push(`(front shown: first ${c.front_shown})`);
  const summary = document.getElementById("summary");
  summary.appendChild(status);
  summary.appendChild(document.createTextNode(parts.join(" · ")));
  document.getElementById("metadata").textContent = JSON.stringify(m, null, 2);
  document.getElementById("space-yaml").textContent = D.space_yaml ?? "(no space.yaml in the results folder)";
}

// --- colour and symbol -------------------------------------------------------------------
function distinctValues(column) {
  return [...new Set(D.designs.map((d) => d[column]).filter((v) => v !== null && v !== undefined))]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function renderMarkControls() {
  const colour = document.getElementById("colour-by");
  const symbol = document.getElementById("symbol-by");
  colour.appendChild(el("option", { value: "", text: "front / dominated" }));
  symbol.appendChild(el("option", { value: "", text: "(none)" }));
  for (const c of ALL_COLS) colour.appendChild(el("option", { value: c, text: HEAD[c] || c }));
  const symbolCols = ALL_COLS.filter((c) => { const n = distinctValues(c).length; return n >= 2 && n <= SYMBOLS.length; });
  for (const c of symbolCols) symbol.appendChild(el("option", { value: c, text: HEAD[c] || c }));
  // A route (a categorical parameter) is what an architect compares first: shape by it.
  const route = PAR_COLS.find((c) => CATEGORICAL.has(c) && symbolCols.includes(c));
  if (route) symbol.value = route;
  const redraw = () => {
    renderScatters();
    if (document.getElementById("plot-3d-box").dataset.drawn) guarded("3-D view", render3d);
    if (document.getElementById("explore-section").dataset.drawn) renderExplorer();
  };
  colour.addEventListener("change", redraw);
  symbol.addEventListener("change", redraw);
}

function markSettings() {
  const colourBy = document.getElementById("colour-by").value || null;
  const symbolBy = document.getElementById("symbol-by").value || null;
  let colour = { kind: "front" };
  if (colourBy && CATEGORICAL.has(colourBy)) colour = { kind: "category", column: colourBy, values: distinctValues(colourBy) };
  else if (colourBy) {
    const v = D.designs.map((d) => d[colourBy]).filter((x) => typeof x === "number" && Number.isFinite(x));
    colour = { kind: "numeric", column: colourBy, cmin: Math.min(...v), cmax: Math.max(...v) };
  }
  const symbols = symbolBy ? distinctValues(symbolBy) : [];
  return { colour, symbolBy, symbols };
}

function groupLabel(column, value) { return `${bare(column)}=${fmt(value)}`; }

// Marker traces for `rows` (front or dominated), split by symbol value and (for a
// categorical colour) by colour value. `xy(rows)` gives {x, y[, z]}.
function markedTraces(rows, base, marks, xy, type, size, opacity, outline) {
  const keys = new Map();
  for (const d of rows) {
    const s = marks.symbolBy ? d[marks.symbolBy] : null;
    const c = marks.colour.kind === "category" ? d[marks.colour.column] : null;
    const key = JSON.stringify([c, s]);
    if (!keys.has(key)) keys.set(key, { c, s, rows: [] });
    keys.get(key).rows.push(d);
  }
  const traces = [];
  let scaleShown = false;
  const ordered = [...keys.values()].sort((a, b) => JSON.stringify([a.c, a.s]) < JSON.stringify([b.c, b.s]) ? -1 : 1);
  for (const g of ordered) {
    const labels = [];
    if (g.c !== null) labels.push(groupLabel(marks.colour.column, g.c));
    if (g.s !== null && !(g.c !== null && marks.symbolBy === marks.colour.column)) labels.push(groupLabel(marks.symbolBy, g.s));
    const name = labels.length ? `${base} · ${labels.join(", ")}` : base;
    const marker = { size, opacity, symbol: marks.symbolBy ? SYMBOLS[marks.symbols.indexOf(g.s)] || "circle" : "circle" };
    if (outline) marker.line = { color: "#0b3d91", width: 1 };
    if (base !== "front" && marks.colour.kind !== "numeric") marker.color = GREY;
    else if (marks.colour.kind === "front") marker.color = FRONT_COLOR;
    else if (marks.colour.kind === "category") marker.color = PALETTE[marks.colour.values.indexOf(g.c) % PALETTE.length];
    else {
      marker.color = g.rows.map((d) => d[marks.colour.column]);
      Object.assign(marker, { cmin: marks.colour.cmin, cmax: marks.colour.cmax, colorscale: "Viridis" });
      if (!scaleShown && base === "front") {
        marker.showscale = true;
        marker.colorbar = { title: { text: HEAD[marks.colour.column] || marks.colour.column, side: "right" }, thickness: 12, len: 0.9 };
        scaleShown = true;
      }
    }
    const t = { type, mode: "markers", name: `${name} (${g.rows.length})`, ...xy(g.rows),
      customdata: g.rows.map((d) => d.trial_number), text: g.rows.map(hoverText), hoverinfo: "text", marker };
    if (base !== "front") t.legendgroup = base;
    traces.push(t);
  }
  return traces;
}

// --- scatter plots -----------------------------------------------------------------------
function groups() {
  const front = [], dominated = [], infeasible = [];
  for (const d of D.designs) {
    if (d.front) front.push(d);
    else if (d.state === "complete" && d.feasible) dominated.push(d);
    else infeasible.push(d);
  }
  return { front, dominated, infeasible };
}

function refValue(ref, column) {
  const [kind, list] = column.startsWith("objective_") ? ["objective_", ref.objectives]
    : column.startsWith("param_") ? ["param_", ref.parameters] : ["derived_", ref.derived];
  const f = (list || []).find((x) => x.name === column.slice(kind.length));
  return f ? f.value : null;
}

function hoverText(d) {
  if (d.hover === undefined) d.hover = hoverLines(d);
  return d.hover;
}

function hoverLines(d) {
  const lines = [`trial ${d.trial_number}${d.front ? " (front)" : ""}`];
  if (d.trials && d.trials.length > 1) lines.push(`same design as trials ${d.trials.join(", ")}`);
  for (const c of PAR_COLS) lines.push(`${HEAD[c]}: ${fmt(d[c])}`);
  for (const c of OBJ_COLS) lines.push(`${HEAD[c]}: ${fmt(d[c])}`);
  if (d.infeasible_reason) lines.push(`infeasible: ${d.infeasible_reason}`);
  return lines.join("<br>");
}

// Traces over the columns `cols` (2 or 3 of them): infeasible, dominated, front, references.
function scatterTraces(cols, marks) {
  const g = groups();
  const is3d = cols.length === 3;
  const total = D.designs.length;
  const type = is3d ? "scatter3d" : (total > GL_POINTS && webgl() ? "scattergl" : "scatter");
  const xy = (rows) => {
    const out = { x: rows.map((d) => d[cols[0]]), y: rows.map((d) => d[cols[1]]) };
    if (is3d) out.z = rows.map((d) => d[cols[2]]);
    return out;
  };
  const size = is3d ? 3 : 6;
  const traces = [
    { type, mode: "markers", name: `infeasible (${g.infeasible.length} shown)`, ...xy(g.infeasible),
      customdata: g.infeasible.map((d) => d.trial_number), text: g.infeasible.map(hoverText), hoverinfo: "text",
      marker: { color: GREY, symbol: "x", size, opacity: 0.35 } },
    ...markedTraces(g.dominated, "dominated", marks, xy, type, size, 0.45, false),
    ...markedTraces(g.front, "front", marks, xy, type, size + 2, 1, true),
  ];
  const refs = D.references;
  const ref = { type: is3d ? "scatter3d" : "scatter", mode: "markers+text", name: "reference chips",
    x: refs.map((r) => refValue(r, cols[0])), y: refs.map((r) => refValue(r, cols[1])),
    text: refs.map((r) => r.label), textposition: "top center", cliponaxis: false,
    customdata: refs.map((r) => "ref:" + r.label),
    hovertemplate: "%{text}<extra>reference</extra>",
    marker: { color: REF_COLOR, symbol: "diamond", size: is3d ? 6 : 12, line: { color: "#fff", width: 1 } } };
  if (is3d) { ref.z = refs.map((r) => refValue(r, cols[2])); delete ref.cliponaxis; }
  traces.push(ref);
  addErrorBars(traces, cols);
  return traces;
}

// --- error bands (docs/cost-model.md, Error bands) ---------------------------------------
// Error bars on the front's points and the reference chips, 2-D plots only, for objectives
// that carry a band (objective_<name>_low / _high in the trial rows, low / high in a
// reference chip's figures); and the design view's comparison with the reference chips.
function bandPair(lows, highs, values) {
  const ok = (x) => typeof x === "number" && Number.isFinite(x);
  return { type: "data", symmetric: false, thickness: 1.2, width: 0,
    array: values.map((v, i) => (ok(v) && ok(highs[i]) ? highs[i] - v : null)),
    arrayminus: values.map((v, i) => (ok(v) && ok(lows[i]) ? v - lows[i] : null)) };
}

function addErrorBars(traces, columns) {
  if (columns.length !== 2) return;
  const bands = new Set(D.columns.bands || []);
  columns.forEach((column, axis) => {
    const key = axis === 0 ? "error_x" : "error_y";
    for (const t of traces) {
      if (t.name.startsWith("front") && bands.has(column + "_low")) {
        const rows = t.customdata.map((n) => BY_NUMBER.get(n));
        t[key] = { ...bandPair(rows.map((d) => d[column + "_low"]), rows.map((d) => d[column + "_high"]),
          rows.map((d) => d[column])), color: "rgba(11,61,145,0.45)" };
      } else if (t.name === "reference chips" && column.startsWith("objective_")) {
        const figures = D.references.map((r) => r.objectives.find((f) => "objective_" + f.name === column) || {});
        if (!figures.some((f) => typeof f.low === "number")) continue;
        t[key] = { ...bandPair(figures.map((f) => f.low), figures.map((f) => f.high), figures.map((f) => f.value)),
          color: "rgba(209,36,47,0.6)" };
      }
    }
  });
}

function figureText(f) {
  if (!f) return fmt(null);
  return typeof f.low === "number" && typeof f.high === "number"
    ? `${fmt(f.value)} (${fmt(f.low)}–${fmt(f.high)})` : fmt(f.value);
}

// As dse.validation.bands.objectives_distinguishable: the difference is inside the band
// when design / reference lies within [1/s, s], s the wider of the two bands' high/low.
function bandSpread(f) {
  const ok = (x) => typeof x === "number" && Number.isFinite(x) && x > 0;
  return f && ok(f.value) && ok(f.low) && ok(f.high) ? f.high / f.low : null;
}

function versusTable(details) {
  const refs = details.filter((d) => d.reference), designs = details.filter((d) => !d.reference);
  if (!refs.length || !designs.length) return null;
  const table = el("table", { class: "figures", "data-section": "versus" });
  table.appendChild(el("tr", {}, [el("th", { text: "versus reference (error band)" }), el("th", { text: "" }),
    ...designs.map((d) => el("th", { text: d.label }))]));
  for (const r of refs) for (const o of r.objectives) {
    table.appendChild(el("tr", { "data-objective": o.name, "data-reference": r.label }, [
      el("td", { text: `${o.name} / ${r.label}` }), el("td", { text: "x" }),
      ...designs.map((d) => {
        const f = d.objectives.find((x) => x.name === o.name);
        if (!f || !(f.value > 0) || !(o.value > 0)) return el("td", { text: "-" });
        const relative = f.value / o.value, a = bandSpread(f), b = bandSpread(o);
        const spread = a && b ? Math.max(a, b) : null;
        const inside = spread !== null && relative <= spread && relative >= 1 / spread;
        return el("td", { class: inside ? "not-distinguishable" : "",
          text: `${fmt(relative)}x${inside ? " not distinguishable" : ""}` });
      })]));
  }
  return table;
}

function onPointClick(ev) {
  const point = ev.points && ev.points[0];
  if (!point) return;
  const key = point.customdata;
  if (typeof key === "string" && key.startsWith("ref:")) {
    const box = document.querySelector(`#reference-choices input[value="${CSS.escape(key.slice(4))}"]`);
    if (box) box.checked = true;
    if (selectedTrials.length) showDetail(selectedTrials);
    return;
  }
  showDetail([Number(key)]);
}

function axisLayout(column) {
  return { title: { text: columnTitle(column), standoff: 8 }, automargin: true,
    type: LOG.has(column) ? "log" : "linear" };
}

function plotLayout(x, y) {
  // Legend above the plot, colour bar to the right: neither covers the other or the data.
  return {
    margin: { l: 16, r: 16, t: 16, b: 16 }, showlegend: true,
    legend: { orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom", font: { size: 11 } },
    xaxis: axisLayout(x), yaxis: axisLayout(y), hovermode: "closest",
  };
}

function renderScatters() {
  const container = document.getElementById("pair-plots");
  const marks = markSettings();
  for (const div of [...container.children]) Plotly.purge(div);
  container.innerHTML = "";
  const pairs = [];
  for (let i = 0; i < OBJ.length; i++) for (let j = i + 1; j < OBJ.length; j++) pairs.push([i, j]);
  if (OBJ.length === 1) pairs.push([0, 0]);
  for (const [i, j] of pairs.slice(0, 10)) {
    const div = el("div", { class: "pair-plot plot-box", "data-pair": `${OBJ[i].name}|${OBJ[j].name}` });
    container.appendChild(div);
    Plotly.newPlot(div, scatterTraces([OBJ_COLS[i], OBJ_COLS[j]], marks), plotLayout(OBJ_COLS[i], OBJ_COLS[j]),
      { displaylogo: false, responsive: true });
    div.on("plotly_click", onPointClick);
  }
}

function render3d() {
  if (OBJ.length < 3) return;
  const div = document.getElementById("plot-3d");
  const scene = (c) => ({ title: { text: columnTitle(c) }, type: LOG.has(c) ? "log" : "linear" });
  Plotly.newPlot(div, scatterTraces(OBJ_COLS.slice(0, 3), markSettings()), {
    margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: true, legend: { x: 0, y: 1, font: { size: 11 } },
    scene: { xaxis: scene(OBJ_COLS[0]), yaxis: scene(OBJ_COLS[1]), zaxis: scene(OBJ_COLS[2]) },
  }, { displaylogo: false, responsive: true });
  div.on("plotly_click", onPointClick);
}

// --- explore: any two columns, linear or log axes ----------------------------------------
function renderExplorerControls() {
  const xs = document.getElementById("explore-x"), ys = document.getElementById("explore-y");
  for (const c of ALL_COLS) {
    xs.appendChild(el("option", { value: c, text: HEAD[c] || c }));
    ys.appendChild(el("option", { value: c, text: HEAD[c] || c }));
  }
  xs.value = PAR_COLS.find((c) => LOG.has(c)) || PAR_COLS[0] || ALL_COLS[0];
  ys.value = OBJ_COLS[0];
  const sync = () => {
    for (const [select, box] of [[xs, "log-x"], [ys, "log-y"]]) {
      const input = document.getElementById(box);
      const positive = !CATEGORICAL.has(select.value)
        && D.designs.every((d) => d[select.value] === null || d[select.value] === undefined || d[select.value] > 0);
      input.disabled = !positive;
      input.checked = positive && LOG.has(select.value);
    }
  };
  const toggle = (select, box) => () => {
    if (document.getElementById(box).checked) LOG.add(select.value); else LOG.delete(select.value);
    renderExplorer();
    if (select.value.startsWith("objective_")) {
      renderScatters();
      if (document.getElementById("plot-3d-box").dataset.drawn) guarded("3-D view", render3d);
    }
  };
  xs.addEventListener("change", () => { sync(); renderExplorer(); });
  ys.addEventListener("change", () => { sync(); renderExplorer(); });
  document.getElementById("log-x").addEventListener("change", toggle(xs, "log-x"));
  document.getElementById("log-y").addEventListener("change", toggle(ys, "log-y"));
  sync();
}

function renderExplorer() {
  const div = document.getElementById("explorer");
  const x = document.getElementById("explore-x").value, y = document.getElementById("explore-y").value;
  if (!x || !y) return;
  Plotly.react(div, scatterTraces([x, y], markSettings()), plotLayout(x, y), { displaylogo: false, responsive: true });
  if (!div.dataset.bound) { div.on("plotly_click", onPointClick); div.dataset.bound = "1"; }
}

// --- convergence -------------------------------------------------------------------------
function renderConvergence() {
  const h = D.history;
  const frame = D.hypervolume_frame;
  document.getElementById("hypervolume-frame").textContent = OBJ.map(
    (o, i) => `${o.name}: reference ${fmt(frame.reference[i])}, scale ${fmt(frame.scale[i])}`).join("; ");
  const div = document.getElementById("convergence");
  if (!h.length) { div.textContent = "No finished trials yet."; return; }
  Plotly.newPlot(div, [
    { x: h.map((p) => p.trials), y: h.map((p) => p.hypervolume), name: "hypervolume", mode: "lines+markers",
      line: { color: FRONT_COLOR } },
    { x: h.map((p) => p.trials), y: h.map((p) => p.front_size), name: "front size", mode: "lines",
      yaxis: "y2", line: { color: "#8250df", dash: "dot" } },
  ], {
    margin: { l: 16, r: 16, t: 16, b: 16 },
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    xaxis: { title: { text: "finished trials" }, automargin: true },
    yaxis: { title: { text: "hypervolume (scaled)" }, rangemode: "tozero", automargin: true },
    yaxis2: { title: { text: "front size" }, overlaying: "y", side: "right", rangemode: "tozero", automargin: true },
  }, { displaylogo: false, responsive: true });
}

// --- parameter importance ----------------------------------------------------------------
async function renderImportance() {
  const div = document.getElementById("importance");
  const note = document.getElementById("importance-note");
  let imp = D.importance;
  if (!imp && D.served) {
    note.textContent = "computing…";
    const response = await fetch("/api/importance");
    imp = await response.json();
    if (!response.ok) throw new Error(imp.error || response.statusText);
  }
  if (!imp) { note.textContent = "Not available in this file."; div.dataset.state = "none"; return; }
  if (!imp.targets.length) { note.textContent = `No importance: ${imp.note}.`; div.dataset.state = "none"; return; }
  note.textContent = `Optuna's ${imp.evaluator} importance evaluator over ${imp.trials_used} of ` +
    `${imp.trials_total} feasible finished trials; each target's importances sum to 1. ` +
    `"front": importance for reaching the Pareto front.`;
  const params = [...imp.parameters].reverse();
  Plotly.newPlot(div, imp.targets.map((t, k) => ({
    type: "bar", orientation: "h", name: t, y: params,
    x: params.map((p) => imp.values[k][imp.parameters.indexOf(p)]),
    marker: { color: t === "front" ? "#57606a" : PALETTE[k % PALETTE.length] },
  })), {
    barmode: "group", margin: { l: 16, r: 16, t: 16, b: 16 },
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    xaxis: { title: { text: "importance (share of the target's total)" }, automargin: true, rangemode: "tozero" },
    yaxis: { automargin: true },
    height: Math.max(260, 80 + params.length * imp.targets.length * 14),
  }, { displaylogo: false, responsive: true });
  div.dataset.state = "loaded";
}

// --- parallel coordinates ----------------------------------------------------------------
let parcoordsRows = [];
function renderParcoords() {
  const div = document.getElementById("parcoords");
  parcoordsRows = D.designs.filter((d) => d.state === "complete" && d.feasible);
  if (!parcoordsRows.length) { div.textContent = "No feasible designs yet."; return; }
  const dims = [];
  for (const c of [...PAR_COLS, ...OBJ_COLS]) {
    const values = parcoordsRows.map((d) => d[c]);
    if (values.some((v) => typeof v === "string")) {
      const cats = [...new Set(values.map(String))].sort();
      dims.push({ label: HEAD[c], values: values.map((v) => cats.indexOf(String(v))),
        tickvals: cats.map((_, i) => i), ticktext: cats, column: c });
    } else {
      dims.push({ label: HEAD[c], values: values.map((v) => (v === null ? NaN : v)), column: c });
    }
  }
  Plotly.newPlot(div, [{
    type: "parcoords",
    line: { color: parcoordsRows.map((d) => (d.front ? 1 : 0)), cmin: 0, cmax: 1,
      colorscale: [[0, "#c7ccd4"], [1, FRONT_COLOR]] },
    labelangle: -12, labelside: "top",
    dimensions: dims.map(({ column, ...rest }) => rest),
  }], { margin: { l: 80, r: 80, t: 64, b: 24 } }, { displaylogo: false, responsive: true });
  div.on("plotly_restyle", () => {
    const ranges = div.data[0].dimensions.map((d) => d.constraintrange);
    if (ranges.every((r) => !r)) { brushed = null; renderTable(); return; }
    const inRange = (v, r) => {
      if (!r) return true;
      const list = Array.isArray(r[0]) ? r : [r];
      return list.some(([lo, hi]) => v >= lo && v <= hi);
    };
    brushed = new Set();
    parcoordsRows.forEach((d, i) => {
      if (div.data[0].dimensions.every((dim, k) => inRange(dim.values[i], ranges[k]))) brushed.add(d.trial_number);
    });
    renderTable();
  });
  document.getElementById("clear-brush").addEventListener("click", () => {
    const cleared = {};
    div.data[0].dimensions.forEach((_, k) => { cleared[`dimensions[${k}].constraintrange`] = null; });
    Plotly.restyle(div, cleared);
  });
}

const TIMINGS = [];                             // [part, ms since navigation start] (benchmarks)
function guarded(name, render) {
  // One part that cannot draw (e.g. no WebGL for the 3-D view) must not blank the rest.
  try { return render(); } catch (err) {
    const note = el("p", { class: "infeasible", text: `${name} could not be drawn: ${err.message || err}` });
    document.getElementById(name === "table" ? "table-section" : "front-section").appendChild(note);
    return undefined;
  } finally {
    TIMINGS.push([name, Math.round(performance.now())]);
  }
}

function whenVisible(node, name, render) {
  // Parts below the first screen (WebGL 3-D view and parallel coordinates above all) are
  // drawn when scrolled near, so they never delay what the reader sees first.
  const draw = () => {
    guarded(name, render);
    node.dataset.drawnMs = String(Math.round(performance.now()));
    node.dataset.drawn = "true";
  };
  if (!("IntersectionObserver" in window)) { setTimeout(draw, 0); return; }
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) { observer.disconnect(); draw(); }
  }, { rootMargin: "200px" });
  observer.observe(node);
}

async function main() {
  // The first screen (summary, the front's pair plots) and the table are drawn at once;
  // the rest when scrolled to, and the importance is fetched after first paint.
  guarded("summary", renderSummary);
  guarded("colour controls", renderMarkControls);
  guarded("reference list", renderReferenceChoices);
  guarded("downloads", renderDownloads);
  guarded("table", renderTable);
  document.getElementById("front-only").addEventListener("change", renderTable);
  document.getElementById("table-filter").addEventListener("input", renderTable);
  if (!window.Plotly) {  // served: plotly.js is a deferred script, run before DOMContentLoaded
    await new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
  }
  if (!window.Plotly) {
    guarded("scatter plots", () => { throw new Error("plotly.js did not load"); });
    document.body.dataset.ready = "true";
    return;
  }
  guarded("scatter plots", renderScatters);
  document.body.dataset.readyMs = String(Math.round(performance.now()));
  document.body.dataset.timings = JSON.stringify(TIMINGS);
  document.body.dataset.ready = "true";
  whenVisible(document.getElementById("plot-3d-box"), "3-D view", render3d);
  whenVisible(document.getElementById("explore-section"), "explorer", () => { renderExplorerControls(); renderExplorer(); });
  whenVisible(document.getElementById("convergence-section"), "convergence", renderConvergence);
  whenVisible(document.getElementById("parcoords-section"), "parallel coordinates", renderParcoords);
  try { await renderImportance(); } catch (err) {
    document.getElementById("importance-note").textContent = `importance could not be computed: ${err.message || err}`;
    document.getElementById("importance").dataset.state = "failed";
  }
}
