// The dse results page. Data comes from the inline JSON block; nothing is fetched from the
// network except, when served by `dse browse`, the server's own /api/trial/N (a design's
// breakdown), /api/importance and /api/pareto.csv.
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

// --- the filter language -----------------------------------------------------------------
// A filter is free text (matched against every cell), or comparisons `column OP value`
// joined by `and` / `or` (`and` binds tighter). OP: == = != <> < <= > >=. Columns by bare
// name (power_w) or stored name (objective_power_w); text values may be quoted.
// "trials": every trial that built the same hardware as a front design (one design).
const TABLE_COLS = ["trial_number", "trials", "front", ...PAR_COLS, ...OBJ_COLS, ...DER_COLS];
const COMPARISON = /^\s*([A-Za-z_][\w.]*)\s*(==|=|!=|<>|<=|>=|<|>)\s*(.*?)\s*$/;

function findColumn(name) {
  return TABLE_COLS.find((c) => c === name) || TABLE_COLS.find((c) => bare(c) === name)
    || ["state", "feasible"].find((c) => c === name);
}

function parseValue(text) {
  const quoted = text.match(/^'(.*)'$|^"(.*)"$/);
  return quoted ? { text: quoted[1] ?? quoted[2], quoted: true } : { text, quoted: false };
}

function comparison(clause) {
  const m = clause.match(COMPARISON);
  if (!m) throw new Error(`\`${clause.trim()}\` is not a comparison (column OP value, OP one of == != < <= > >=)`);
  const [, name, rawOp, rawValue] = m;
  const column = findColumn(name);
  if (!column) throw new Error(`unknown column \`${name}\`; columns: ${TABLE_COLS.map(bare).join(", ")}`);
  if (!rawValue) throw new Error(`\`${clause.trim()}\` has no value after ${rawOp}`);
  const op = rawOp === "=" ? "==" : rawOp === "<>" ? "!=" : rawOp;
  const value = parseValue(rawValue);
  const sample = D.designs.map((d) => d[column]).find((v) => v !== null && v !== undefined);
  if (typeof sample === "boolean" || column === "front") {
    const truth = { yes: true, true: true, "1": true, no: false, false: false, "0": false }[value.text.toLowerCase()];
    if (truth === undefined) throw new Error(`\`${column}\` is yes or no, not \`${value.text}\``);
    if (op !== "==" && op !== "!=") throw new Error(`\`${column}\` is yes or no: use == or !=`);
    return (d) => (d[column] === truth) === (op === "==");
  }
  const numeric = typeof sample === "number" || (sample === undefined && !value.quoted && !Number.isNaN(Number(value.text)));
  if (numeric) {
    const want = Number(value.text);
    if (value.quoted || value.text === "" || Number.isNaN(want)) throw new Error(`\`${bare(column)}\` is a number; \`${value.text}\` is not`);
    return (d) => {
      const v = d[column];
      if (v === null || v === undefined) return false;
      switch (op) {
        case "<": return v < want; case ">": return v > want; case "<=": return v <= want;
        case ">=": return v >= want; case "!=": return v !== want; default: return v === want;
      }
    };
  }
  if (op !== "==" && op !== "!=") throw new Error(`\`${bare(column)}\` is text: compare it with == or !=`);
  return (d) => (String(d[column]) === value.text) === (op === "==");
}

function parseFilter(text) {
  // Returns {keep(d), error}; an invalid filter keeps every design and says why.
  if (!text.trim()) return { keep: () => true, error: null };
  if (!/[<>=!]/.test(text)) {
    const needle = text.trim().toLowerCase();
    return { keep: (d) => TABLE_COLS.some((c) => String(fmt(d[c])).toLowerCase().includes(needle)), error: null };
  }
  try {
    const alternatives = text.split(/\s+or\s+|\s*\|\|\s*/i).map(
      (part) => part.split(/\s+and\s+|\s*&&\s*/i).map(comparison));
    return { keep: (d) => alternatives.some((all) => all.every((f) => f(d))), error: null };
  } catch (err) {
    return { keep: () => true, error: err.message };
  }
}

// --- table -------------------------------------------------------------------------------
let sortColumn = OBJ_COLS[0];
let sortAscending = OBJ.length ? OBJ[0].direction === "minimize" : true;
let tableRows = [];                             // every matching row, sorted (not just drawn)

function renderTable() {
  const table = document.getElementById("design-table");
  const thead = table.tHead, tbody = table.tBodies[0];
  thead.innerHTML = "";
  const hr = el("tr");
  hr.appendChild(el("th", { class: "compare", title: "tick designs to compare side by side", text: "compare" }));
  for (const c of TABLE_COLS) {
    const th = el("th", { "data-column": c, text: HEAD[c] || c });
    if (c === "trials") th.title = "the trials that built this same hardware (one design)";
    if (c === sortColumn) th.className = sortAscending ? "sorted-asc" : "sorted-desc";
    th.addEventListener("click", () => {
      if (sortColumn === c) sortAscending = !sortAscending; else { sortColumn = c; sortAscending = true; }
      renderTable();
    });
    hr.appendChild(th);
  }
  thead.appendChild(hr);
  const frontOnly = document.getElementById("front-only").checked;
  const filterText = document.getElementById("table-filter").value;
  const filter = parseFilter(filterText);
  const inScope = (d) => (!frontOnly || d.front) && (!brushed || brushed.has(d.trial_number));
  const rows = D.designs.filter((d) => inScope(d) && filter.keep(d));
  const dir = sortAscending ? 1 : -1;
  rows.sort((a, b) => {
    const x = a[sortColumn], y = b[sortColumn];
    if (x === y) return a.trial_number - b.trial_number;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * dir;
  });
  tableRows = rows;
  tbody.innerHTML = "";
  const fragment = document.createDocumentFragment();
  for (const d of rows.slice(0, 2000)) {
    const tr = el("tr", { "data-trial": String(d.trial_number) });
    if (!d.front) tr.className = "dominated";
    if (selectedTrials.includes(d.trial_number)) tr.classList.add("selected");
    const box = el("input", { type: "checkbox", class: "compare-box", "aria-label": `compare trial ${d.trial_number}` });
    box.checked = compareSet.has(d.trial_number);
    box.addEventListener("click", (ev) => {
      ev.stopPropagation();
      if (box.checked) compareSet.add(d.trial_number); else compareSet.delete(d.trial_number);
      updateCompareButton();
    });
    tr.appendChild(el("td", { class: "compare" }, [box]));
    for (const c of TABLE_COLS) {
      const v = d[c];
      tr.appendChild(el("td", { class: typeof v === "string" ? "text" : "", text: fmt(v) }));
    }
    tr.addEventListener("click", () => showDetail([d.trial_number]));
    fragment.appendChild(tr);
  }
  tbody.appendChild(fragment);
  const more = rows.length > 2000 ? ` (first 2000 shown)` : "";
  document.getElementById("table-count").textContent = `${rows.length} designs${more}`;
  const message = document.getElementById("filter-message");
  message.className = "";
  if (filter.error) {
    message.textContent = `invalid filter (ignored): ${filter.error}`;
    message.className = "infeasible";
  } else if (filterText.trim() && !rows.length) {
    const elsewhere = D.designs.filter((d) => filter.keep(d)).length;
    message.textContent = `no design matches \`${filterText.trim()}\`` + (elsewhere
      ? ` here; ${elsewhere} among all embedded designs (untick "front only" or clear brushing)` : "");
    message.className = "infeasible";
  } else {
    message.textContent = "";
  }
}

function updateCompareButton() {
  const button = document.getElementById("compare-selected");
  button.textContent = `compare ticked (${compareSet.size})`;
  button.disabled = compareSet.size === 0;
}

// --- CSV download ------------------------------------------------------------------------
function csvCell(v) {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.join(" ");  // as `dse pareto --format csv` writes trials
  const s = typeof v === "boolean" ? (v ? "true" : "false") : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function csvText(columns, rows) {
  const lines = [columns.map((c) => csvCell(HEAD[c] || c)).join(",")];
  for (const d of rows) lines.push(columns.map((c) => csvCell(d[c])).join(","));
  return lines.join("\n") + "\n";
}

function download(name, text) {
  const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: name });
  document.body.appendChild(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
}

function renderDownloads() {
  // The table as shown (every matching row, in the shown order, not only the first 2000).
  document.getElementById("download-table").addEventListener("click",
    () => download("designs.csv", csvText(TABLE_COLS, tableRows)));
  const front = document.getElementById("download-front");
  if (D.served) {
    front.setAttribute("href", "/api/pareto.csv");  // `dse pareto --format csv`, the whole front
  } else {
    const rows = D.designs.filter((d) => d.front);
    front.addEventListener("click", (ev) => {
      ev.preventDefault();
      download("front.csv", csvText(["trial_number", "trials", ...PAR_COLS, ...OBJ_COLS, ...DER_COLS], rows));
    });
  }
}

// --- breakdown ---------------------------------------------------------------------------
function figureTable(title, details, attribute) {
  const names = [];
  for (const d of details) for (const f of d[attribute]) if (!names.find((n) => n.name === f.name)) names.push(f);
  if (!names.length) return null;
  const table = el("table", { class: "figures", "data-section": attribute });
  table.appendChild(el("tr", {}, [el("th", { text: title }), el("th", { text: "unit" }),
    ...details.map((d) => el("th", { text: d.label }))]));
  for (const n of names) {
    table.appendChild(el("tr", {}, [el("td", { text: n.name }), el("td", { text: n.unit }),
      ...details.map((d) => { const f = d[attribute].find((x) => x.name === n.name); return el("td", { text: figureText(f) }); })]));
  }
  return table;
}

function workloadTable(details) {
  const workloads = [...new Set(details.flatMap((d) => d.workloads.map((w) => w.workload)))];
  if (!workloads.length) return el("p", { class: "hint", text: "No per-workload rows were recorded for this design." });
  const table = el("table", { class: "figures", "data-section": "workloads" });
  table.appendChild(el("tr", {}, [el("th", { text: "workload / metric" }), el("th", { text: "unit" }),
    ...details.map((d) => el("th", { text: d.label }))]));
  for (const name of workloads) {
    const per = details.map((d) => d.workloads.find((w) => w.workload === name) || null);
    table.appendChild(el("tr", { class: "workload-row", "data-workload": name }, [el("td", {}, [el("b", { text: name })]), el("td", { text: "" }),
      ...per.map((w) => el("td", { class: w && !w.feasible ? "infeasible" : "",
        text: w ? (w.feasible ? "feasible" : "infeasible: " + w.infeasible_reason) : "-" }))]));
    table.appendChild(el("tr", {}, [el("td", { text: "bound_by" }), el("td", { text: "" }),
      ...per.map((w) => el("td", { class: "bound-by", text: w ? w.bound_by || "-" : "-" }))]));
    const metricNames = [...new Set(per.flatMap((w) => (w ? w.metrics.map((m) => m.name + "|" + m.unit) : [])))];
    for (const key of metricNames) {
      const [metric, unit] = key.split("|");
      const values = per.map((w) => { const m = w && w.metrics.find((x) => x.name === metric); return m ? m.value : null; });
      if (values.every((v) => v === null)) continue;  // does not apply to this workload
      table.appendChild(el("tr", {}, [el("td", { text: "  " + metric }), el("td", { text: unit }),
        ...per.map((w) => { const m = w && w.metrics.find((x) => x.name === metric); return el("td", { text: fmt(m ? m.value : null) }); })]));
    }
  }
  return table;
}

function boundPlot(details) {
  const workloads = [...new Set(details.flatMap((d) => d.workloads.map((w) => w.workload)))];
  const bounds = [...new Set(details.flatMap((d) => d.workloads.flatMap((w) => w.time_by_bound_s.map((b) => b.name))))];
  if (!workloads.length || !bounds.length) return null;
  const div = el("div", { class: "bound-plot" });
  div.style.width = `${Math.max(620, 120 + workloads.length * details.length * 48)}px`;
  const palette = { compute: "#1f6feb", sram: "#2da44e", hbm: "#bf8700", ddr: "#cf222e", host: "#8250df", interconnect: "#57606a" };
  const x = [[], []];
  for (const w of workloads) for (const d of details) { x[0].push(w); x[1].push(d.label); }
  const traces = bounds.map((b) => ({
    type: "bar", name: b, x, marker: { color: palette[b] || undefined },
    y: workloads.flatMap((w) => details.map((d) => {
      const wl = d.workloads.find((v) => v.workload === w);
      const f = wl && wl.time_by_bound_s.find((v) => v.name === b);
      return f ? f.value : null;
    })),
  }));
  setTimeout(() => Plotly.newPlot(div, traces, {
    barmode: "stack", margin: { l: 16, r: 16, t: 40, b: 16 },
    title: { text: "where the time goes (s per step)", font: { size: 13 } },
    xaxis: { automargin: true }, yaxis: { title: { text: "seconds" }, automargin: true }, legend: { font: { size: 11 } },
  }, { displaylogo: false, responsive: true }), 0);
  return div;
}

async function loadDetail(n) {
  if (D.details[String(n)]) return D.details[String(n)];
  if (location.protocol.startsWith("http")) {
    const response = await fetch(`/api/trial/${n}`);
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    D.details[String(n)] = body;
    return body;
  }
  throw new Error(`This report embeds breakdowns of front designs only; run \`dse show ${D.root} ${n}\`.`);
}

function chosenReferences() {
  return [...document.querySelectorAll("#reference-choices input:checked")]
    .map((box) => D.references.find((r) => r.label === box.value)).filter(Boolean);
}

async function showDetail(numbers) {
  selectedTrials = numbers;
  for (const tr of document.querySelectorAll("#design-table tbody tr")) {
    tr.classList.toggle("selected", numbers.includes(Number(tr.dataset.trial)));
  }
  const target = document.getElementById("detail");
  document.getElementById("detail-title").textContent = `— ${numbers.length > 1 ? "trials" : "trial"} ${numbers.join(", ")}`;
  target.innerHTML = "";
  let designs;
  try { designs = await Promise.all(numbers.map(loadDetail)); } catch (err) {
    target.appendChild(el("p", { class: "infeasible", text: String(err.message || err) }));
    return;
  }
  if (selectedTrials !== numbers) return;  // another click came while this one loaded
  const details = [...designs, ...chosenReferences()];
  designs.forEach((detail, k) => {
    const status = detail.feasible ? "feasible" : `infeasible: ${detail.infeasible_reason}`;
    const attrs = { class: "detail-status" + (detail.feasible ? "" : " infeasible"),
      text: `${detail.label}: ${detail.state}, ${status}${detail.error ? " — error: " + detail.error : ""}` };
    if (k === 0) attrs.id = "detail-status";
    target.appendChild(el("p", attrs));
  });
  const grid = el("div", { class: "detail-grid" });
  const left = el("div");
  for (const [title, attr] of [["parameters", "parameters"], ["objectives", "objectives"], ["derived", "derived"], ["constraints (<= 0 feasible)", "constraints"]]) {
    const t = figureTable(title, details, attr);
    if (t) left.appendChild(t);
  }
  const versus = versusTable(details);
  if (versus) left.appendChild(versus);
  const right = el("div");
  right.appendChild(workloadTable(details));
  const plot = boundPlot(details);
  if (plot) right.appendChild(plot);
  grid.appendChild(left);
  grid.appendChild(right);
  target.appendChild(grid);
  document.getElementById("detail-section").scrollIntoView({ behavior: "smooth", block: "start" });
}

function renderReferenceChoices() {
  const box = document.getElementById("reference-choices");
  if (!D.references.length) box.appendChild(el("span", { class: "hint", text: "(no reference chips)" }));
  D.references.forEach((r, k) => {
    const input = el("input", { type: "checkbox", value: r.label });
    input.checked = k === 0;
    input.addEventListener("change", () => { if (selectedTrials.length) showDetail(selectedTrials); });
    box.appendChild(el("label", {}, [input, " " + r.label]));
  });
  document.getElementById("compare-selected").addEventListener("click", () => {
    if (compareSet.size) showDetail([...compareSet]);
  });
  document.getElementById("clear-compare").addEventListener("click", () => {
    compareSet.clear();
    for (const b of document.querySelectorAll("#design-table .compare-box")) b.checked = false;
    updateCompareButton();
  });
  updateCompareButton();
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

main();
