// The results page, part 3 of 3 (after page.js and page_table.js): the breakdown of one or
// several designs beside the reference chips, and the call that draws the page.

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

main();
