// The results page, part 2 of 3 (after page.js): the design table, its filter language,
// the compare ticks and the CSV downloads. One script with page.js and page_detail.js.

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

