// The dse results page. Data comes from the inline JSON block; nothing is fetched from the
// network except, when served by `dse browse`, /api/trial/N for designs off the front.
"use strict";

const D = JSON.parse(document.getElementById("dse-data").textContent);
const OBJ = D.objectives;                       // [{name, direction, unit}]
const OBJ_COLS = D.columns.objectives;          // objective_<name>
const PAR_COLS = D.columns.parameters;          // param_<name>
const DER_COLS = D.columns.derived;             // derived_<name>
const HEAD = D.headers;
const BY_NUMBER = new Map(D.designs.map((d) => [d.trial_number, d]));
const FRONT_COLOR = "#1f6feb";
const GREY = "#9aa0aa";
const REF_COLOR = "#d1242f";
let brushed = null;                             // Set of trial numbers, or null when no brush
let selectedTrial = null;

function fmt(v) {
  if (v === null || v === undefined) return "-";
  if (typeof v === "boolean") return v ? "yes" : "no";
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

function axisTitle(o) { return o.unit ? `${o.name} [${o.unit}] (${o.direction})` : `${o.name} (${o.direction})`; }

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

function refValue(ref, name) {
  const f = ref.objectives.find((x) => x.name === name);
  return f ? f.value : null;
}

function hoverText(d) {
  const lines = [`trial ${d.trial_number}${d.front ? " (front)" : ""}`];
  for (const c of PAR_COLS) lines.push(`${HEAD[c]}: ${fmt(d[c])}`);
  for (const c of OBJ_COLS) lines.push(`${HEAD[c]}: ${fmt(d[c])}`);
  if (d.infeasible_reason) lines.push(`infeasible: ${d.infeasible_reason}`);
  return lines.join("<br>");
}

function scatterTraces(dims) {
  const g = groups();
  const coord = (rows, i) => rows.map((d) => d[OBJ_COLS[dims[i]]]);
  const is3d = dims.length === 3;
  const type = is3d ? "scatter3d" : "scatter";
  const trace = (rows, name, marker) => {
    const t = { type, mode: "markers", name, x: coord(rows, 0), y: coord(rows, 1),
      customdata: rows.map((d) => d.trial_number), text: rows.map(hoverText),
      hoverinfo: "text", marker };
    if (is3d) t.z = coord(rows, 2);
    return t;
  };
  const size = is3d ? 3 : 6;
  const traces = [
    trace(g.infeasible, `infeasible (${g.infeasible.length} shown)`,
      { color: GREY, symbol: "x", size, opacity: 0.35 }),
    trace(g.dominated, `dominated (${g.dominated.length} shown)`,
      { color: GREY, size, opacity: 0.45 }),
    trace(g.front, `front (${g.front.length})`,
      { color: FRONT_COLOR, size: size + 2, line: { color: "#0b3d91", width: 1 } }),
  ];
  const refs = D.references;
  const ref = { type: is3d ? "scatter3d" : "scatter", mode: "markers+text", name: "reference chips",
    x: refs.map((r) => refValue(r, OBJ[dims[0]].name)),
    y: refs.map((r) => refValue(r, OBJ[dims[1]].name)),
    text: refs.map((r) => r.label), textposition: "top center",
    customdata: refs.map((r) => "ref:" + r.label),
    hovertemplate: "%{text}<extra>reference</extra>",
    marker: { color: REF_COLOR, symbol: "diamond", size: is3d ? 6 : 12, line: { color: "#fff", width: 1 } } };
  if (is3d) ref.z = refs.map((r) => refValue(r, OBJ[dims[2]].name));
  traces.push(ref);
  addErrorBars(traces, dims.map((i) => OBJ_COLS[i]));
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
    const select = document.getElementById("reference-select");
    select.value = key.slice(4);
    if (selectedTrial !== null) showDetail(selectedTrial);
    return;
  }
  showDetail(Number(key));
}

function renderScatters() {
  const container = document.getElementById("pair-plots");
  const pairs = [];
  for (let i = 0; i < OBJ.length; i++) for (let j = i + 1; j < OBJ.length; j++) pairs.push([i, j]);
  if (OBJ.length === 1) pairs.push([0, 0]);
  for (const [i, j] of pairs.slice(0, 10)) {
    const div = el("div", { class: "pair-plot", "data-pair": `${OBJ[i].name}|${OBJ[j].name}` });
    container.appendChild(div);
    Plotly.newPlot(div, scatterTraces([i, j]), {
      margin: { l: 64, r: 12, t: 12, b: 48 }, showlegend: i === 0 && j === 1,
      legend: { orientation: "h", y: -0.22, font: { size: 11 } },
      xaxis: { title: { text: axisTitle(OBJ[i]) } }, yaxis: { title: { text: axisTitle(OBJ[j]) } },
      hovermode: "closest",
    }, { displaylogo: false, responsive: true });
    div.on("plotly_click", onPointClick);
  }
  if (OBJ.length >= 3) {
    const div = document.getElementById("plot-3d");
    Plotly.newPlot(div, scatterTraces([0, 1, 2]), {
      margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: true,
      scene: { xaxis: { title: { text: axisTitle(OBJ[0]) } }, yaxis: { title: { text: axisTitle(OBJ[1]) } },
               zaxis: { title: { text: axisTitle(OBJ[2]) } } },
    }, { displaylogo: false, responsive: true });
    div.on("plotly_click", onPointClick);
  }
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
    margin: { l: 64, r: 64, t: 12, b: 48 }, legend: { orientation: "h", y: 1.12 },
    xaxis: { title: { text: "finished trials" } },
    yaxis: { title: { text: "hypervolume (scaled)" }, rangemode: "tozero" },
    yaxis2: { title: { text: "front size" }, overlaying: "y", side: "right", rangemode: "tozero" },
  }, { displaylogo: false, responsive: true });
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
    dimensions: dims.map(({ column, ...rest }) => rest),
  }], { margin: { l: 80, r: 80, t: 48, b: 24 } }, { displaylogo: false, responsive: true });
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

// --- table -------------------------------------------------------------------------------
const TABLE_COLS = ["trial_number", "front", ...PAR_COLS, ...OBJ_COLS, ...DER_COLS];
let sortColumn = OBJ_COLS[0];
let sortAscending = OBJ.length ? OBJ[0].direction === "minimize" : true;

function parseFilter(text) {
  // "column>value", "column<=value", "column=value" on a header's short name, else substring.
  const m = text.match(/^\s*([\w.]+)\s*(<=|>=|!=|=|<|>)\s*(.+?)\s*$/);
  if (m) {
    const col = TABLE_COLS.find((c) => c === m[1] || c.replace(/^(param|objective|derived)_/, "") === m[1]);
    if (col) {
      const want = Number(m[3]);
      const numeric = !Number.isNaN(want);
      return (d) => {
        const v = d[col];
        const a = numeric ? Number(v) : String(v), b = numeric ? want : m[3];
        switch (m[2]) {
          case "<": return a < b; case ">": return a > b; case "<=": return a <= b;
          case ">=": return a >= b; case "!=": return a !== b; default: return a === b;
        }
      };
    }
  }
  const needle = text.trim().toLowerCase();
  if (!needle) return () => true;
  return (d) => TABLE_COLS.some((c) => String(fmt(d[c])).toLowerCase().includes(needle));
}

function renderTable() {
  const table = document.getElementById("design-table");
  const thead = table.tHead, tbody = table.tBodies[0];
  thead.innerHTML = "";
  const hr = el("tr");
  for (const c of TABLE_COLS) {
    const th = el("th", { "data-column": c, text: c === "front" ? "front" : HEAD[c] || c });
    if (c === sortColumn) th.className = sortAscending ? "sorted-asc" : "sorted-desc";
    th.addEventListener("click", () => {
      if (sortColumn === c) sortAscending = !sortAscending; else { sortColumn = c; sortAscending = true; }
      renderTable();
    });
    hr.appendChild(th);
  }
  thead.appendChild(hr);
  const frontOnly = document.getElementById("front-only").checked;
  const keep = parseFilter(document.getElementById("table-filter").value);
  const rows = D.designs.filter((d) => (!frontOnly || d.front) && (!brushed || brushed.has(d.trial_number)) && keep(d));
  const dir = sortAscending ? 1 : -1;
  rows.sort((a, b) => {
    const x = a[sortColumn], y = b[sortColumn];
    if (x === y) return a.trial_number - b.trial_number;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * dir;
  });
  tbody.innerHTML = "";
  const fragment = document.createDocumentFragment();
  for (const d of rows.slice(0, 2000)) {
    const tr = el("tr", { "data-trial": String(d.trial_number) });
    if (!d.front) tr.className = "dominated";
    if (d.trial_number === selectedTrial) tr.classList.add("selected");
    for (const c of TABLE_COLS) {
      const v = d[c];
      tr.appendChild(el("td", { class: typeof v === "string" ? "text" : "", text: fmt(v) }));
    }
    tr.addEventListener("click", () => showDetail(d.trial_number));
    fragment.appendChild(tr);
  }
  tbody.appendChild(fragment);
  const more = rows.length > 2000 ? ` (first 2000 shown)` : "";
  document.getElementById("table-count").textContent = `${rows.length} designs${more}`;
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
    barmode: "stack", margin: { l: 64, r: 12, t: 24, b: 64 },
    title: { text: "where the time goes (s per step)", font: { size: 13 } },
    yaxis: { title: { text: "seconds" } }, legend: { font: { size: 11 } },
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

async function showDetail(n) {
  selectedTrial = n;
  for (const tr of document.querySelectorAll("#design-table tbody tr")) {
    tr.classList.toggle("selected", Number(tr.dataset.trial) === n);
  }
  const target = document.getElementById("detail");
  document.getElementById("detail-title").textContent = `— trial ${n}`;
  target.innerHTML = "";
  let detail;
  try { detail = await loadDetail(n); } catch (err) {
    target.appendChild(el("p", { class: "infeasible", text: String(err.message || err) }));
    return;
  }
  const refName = document.getElementById("reference-select").value;
  const ref = D.references.find((r) => r.label === refName);
  const details = ref ? [detail, ref] : [detail];
  const status = detail.feasible ? "feasible" : `infeasible: ${detail.infeasible_reason}`;
  target.appendChild(el("p", { class: detail.feasible ? "" : "infeasible", id: "detail-status",
    text: `${detail.label}: ${detail.state}, ${status}${detail.error ? " — error: " + detail.error : ""}` }));
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

function renderReferenceSelect() {
  const select = document.getElementById("reference-select");
  select.appendChild(el("option", { value: "", text: "(none)" }));
  for (const r of D.references) select.appendChild(el("option", { value: r.label, text: r.label }));
  if (D.references.length) select.value = D.references[0].label;
  select.addEventListener("change", () => { if (selectedTrial !== null) showDetail(selectedTrial); });
}

function guarded(name, render) {
  // One part that cannot draw (e.g. no WebGL for the 3-D view) must not blank the rest.
  try { render(); } catch (err) {
    const note = el("p", { class: "infeasible", text: `${name} could not be drawn: ${err.message || err}` });
    document.getElementById(name === "table" ? "table-section" : "front-section").appendChild(note);
  }
}

guarded("summary", renderSummary);
guarded("reference list", renderReferenceSelect);
guarded("scatter plots", renderScatters);
guarded("convergence", renderConvergence);
guarded("parallel coordinates", renderParcoords);
guarded("table", renderTable);
document.getElementById("front-only").addEventListener("change", renderTable);
document.getElementById("table-filter").addEventListener("input", renderTable);
document.body.dataset.ready = "true";
