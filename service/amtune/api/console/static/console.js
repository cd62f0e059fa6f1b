// The amtune console: fills the server-rendered page shells from /console/api/* and draws
// the plots with Apache ECharts (SVG renderer). Everything it shows is already aggregated,
// paged and downsampled by the server; this file only lays it out. Text from the server is
// always inserted as text (textContent), never as HTML.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]')?.content || "";
const PAGE = document.body.dataset.page;
const NAME = document.body.dataset.name;
const POLL_MS = 2000;
const ENDED = new Set(["Completed", "Failed", "Stopped"]);

// `cache` is "no-store" but for a request the page preloads (<link rel="preload">), which
// only a fetch of the same mode, credentials and cache use finds.
async function getJSON(url, cache = "no-store") {
  const response = await fetch(url, { credentials: "same-origin", cache });
  if (response.status === 403) { window.location.assign("/console/sign-in"); throw new Error("signed out"); }
  const data = await response.json();
  if (!response.ok) throw new Error(data.message || String(response.status));
  return data;
}

async function post(url, data) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": CSRF, "Content-Type": "application/json" },
    body: JSON.stringify(data || {}),
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : {};
  if (!response.ok) throw new Error(parsed.message || String(response.status));
  return parsed;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function when(seconds) {
  if (seconds === undefined || seconds === null) return "";
  return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19);
}

function number(value) {
  if (value === undefined || value === null) return "";
  return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(4) : String(+value.toFixed(6));
}

function label(text) {
  const value = Number(text);
  return text !== "" && Number.isFinite(value) ? String(+value.toPrecision(3)) : text;
}

function show(error) {
  let notice = document.getElementById("error");
  if (!notice) {
    notice = el("p", { id: "error", class: "error", role: "alert" });
    document.querySelector("main").prepend(notice);
  }
  notice.textContent = error.message;
}

// Resolves once the browser could paint what was drawn so far: after the next frame (or
// 100 ms, in a hidden tab that gets no frames), in a task of its own, so a page drawing
// several charts shows each as it is done and still answers input between them.
function painted() {
  return new Promise((resolve) => {
    const done = () => setTimeout(resolve, 0);
    const timer = setTimeout(done, 100);
    requestAnimationFrame(() => { clearTimeout(timer); done(); });
  });
}

const charts = {};
function chart(id, option) {
  const node = typeof id === "string" ? document.getElementById(id) : id;
  const key = node.id;
  if (!charts[key]) charts[key] = echarts.init(node, null, { renderer: "svg" });
  // No entry animation: a live page redraws every few seconds, and at thousands of shapes
  // the animation is what the first paint waits for.
  charts[key].setOption({ animation: false, ...option }, true);
  return charts[key];
}
window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));

document.getElementById("sign-out")?.addEventListener("click", async () => {
  try { await post("/console/sign-out"); } finally { window.location.assign("/console/sign-in"); }
});

// --- the tuning-job list ------------------------------------------------------------------
function tuningJobsPage() {
  const form = document.getElementById("filters");
  const tbody = document.querySelector("#tuning-jobs tbody");
  let tokens = [];
  let next = null;

  async function load(token) {
    const query = new URLSearchParams({ MaxResults: "20" });
    for (const [key, value] of new FormData(form)) if (value) query.set(key, value);
    if (token) query.set("NextToken", token);
    const page = await getJSON(`/console/api/tuning-jobs?${query}`);
    tbody.replaceChildren(...page.HyperParameterTuningJobSummaries.map((job) => {
      const c = job.TrainingJobStatusCounters || {};
      const failed = (c.RetryableError || 0) + (c.NonRetryableError || 0);
      return el("tr", {},
        el("td", {}, el("a", { href: `/console/tuning-jobs/${encodeURIComponent(job.HyperParameterTuningJobName)}` }, job.HyperParameterTuningJobName)),
        el("td", { class: `status-${job.HyperParameterTuningJobStatus}` }, job.HyperParameterTuningJobStatus),
        el("td", {}, job.Strategy),
        el("td", {}, `${c.Completed || 0} / ${c.InProgress || 0} / ${c.Stopped || 0} / ${failed}`),
        el("td", {}, number(job.BestObjectiveValue)),
        el("td", {}, when(job.CreationTime)),
        el("td", {}, when(job.HyperParameterTuningEndTime)));
    }));
    next = page.NextToken || null;
    document.getElementById("next-page").disabled = !next;
    document.getElementById("first-page").disabled = !token;
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); tokens = []; load(null).catch(show); });
  document.getElementById("next-page").addEventListener("click", () => { tokens.push(next); load(next).catch(show); });
  document.getElementById("first-page").addEventListener("click", () => { tokens = []; load(null).catch(show); });
  load(null).catch(show);
  setInterval(() => load(tokens[tokens.length - 1] || null).catch(() => {}), POLL_MS * 2);
}

// --- one tuning job -----------------------------------------------------------------------
function tuningJobPage() {
  const base = `/console/api/tuning-jobs/${encodeURIComponent(NAME)}`;
  let seen = "";
  let overview = null;
  const jobs = { SortBy: "CreationTime", SortOrder: "Descending", tokens: [], next: null };

  function objectiveName() { return overview.Objective.MetricName || "objective"; }

  function renderSummary(o) {
    const job = o.TuningJob;
    const counts = Object.entries(o.StatusCounts).map(([k, v]) => `${v} ${k}`).join(", ") || "no training jobs yet";
    document.getElementById("summary").textContent =
      `${job.HyperParameterTuningJobStatus} · ${job.HyperParameterTuningJobConfig.Strategy} · ` +
      `${o.TrainingJobCount} training jobs (${counts}) · created ${when(job.CreationTime)}` +
      (job.HyperParameterTuningEndTime ? ` · ended ${when(job.HyperParameterTuningEndTime)}` : "") +
      (job.FailureReason ? ` · ${job.FailureReason}` : "");
    document.getElementById("stop-tuning-job").disabled = ENDED.has(job.HyperParameterTuningJobStatus) || job.HyperParameterTuningJobStatus === "Stopping";
    document.getElementById("config").textContent = JSON.stringify(job.HyperParameterTuningJobConfig, null, 2);
    const best = job.BestTrainingJob;
    const target = document.getElementById("best");
    if (!best) { target.replaceChildren(el("p", {}, "No training job has an objective yet.")); return; }
    const metric = best.FinalHyperParameterTuningJobObjectiveMetric || {};
    target.replaceChildren(
      el("p", {}, el("a", { href: `/console/training-jobs/${encodeURIComponent(best.TrainingJobName)}` }, best.TrainingJobName),
        ` · ${metric.MetricName || ""} = ${number(metric.Value)}`),
      el("table", { id: "best-hyperparameters" }, el("caption", {}, "Its hyperparameters"),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "Value"))),
        el("tbody", {}, ...Object.entries(best.TunedHyperParameters || {}).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v))))));
  }

  function axisFor(hp) {
    if (hp.Kind === "Categorical") return { type: "category", data: hp.Values };
    return { type: hp.Scaling === "Logarithmic" ? "log" : "value", scale: true };
  }

  function valueOf(hp, text) { return hp.Kind === "Categorical" ? text : Number(text); }

  // The first plot, from the page's first and smallest request (/history).
  function drawHistory(h) {
    const bestLine = h.BestSoFar.map(([t, v]) => [t * 1000, v]);
    if (bestLine.length && (h.EndTime === null || h.EndTime === undefined)) bestLine.push([Date.now(), bestLine[bestLine.length - 1][1]]);
    chart("history", {
      tooltip: { trigger: "item" },
      legend: { data: ["training job", "best so far"] },
      xAxis: { type: "time" }, yAxis: { type: "value", scale: true, name: h.Objective.MetricName || "objective" },
      series: [
        { name: "training job", type: "scatter", symbolSize: 7, data: h.Points.map(([t, v, name]) => ({ value: [t * 1000, v], name })) },
        { name: "best so far", type: "line", step: "end", symbol: "none", data: bestLine },
      ],
    });
  }

  async function renderCharts(o) {
    const scored = o.Points.filter((p) => p.Objective !== null && p.EndTime && p.Status !== "Failed");
    const importance = [...o.Importance].sort((a, b) => a.Share - b.Share);
    chart("importance", {
      grid: { left: 120 },
      xAxis: { type: "value", max: 1 }, yAxis: { type: "category", data: importance.map((i) => i.Name) },
      series: [{ type: "bar", data: importance.map((i) => i.Share) }],
    });
    await painted();
    const hps = o.HyperParameters;
    chart("parallel", {
      parallelAxis: [...hps.map((hp, i) => ({ dim: i, name: hp.Name, ...axisFor(hp) })), { dim: hps.length, name: objectiveName(), type: "value", scale: true }],
      parallel: { left: 60, right: 80 },
      visualMap: { show: false, dimension: hps.length, min: Math.min(...scored.map((p) => p.Objective)), max: Math.max(...scored.map((p) => p.Objective)), inRange: { color: ["#2166ac", "#f7f7f7", "#b2182b"] } },
      series: [{ type: "parallel", lineStyle: { width: 1, opacity: 0.5 }, data: scored.map((p) => [...hps.map((hp) => valueOf(hp, p.HyperParameters[hp.Name])), p.Objective]) }],
    });
    await painted();
    const slices = document.getElementById("slices");
    if (slices.children.length !== hps.length) {
      slices.replaceChildren(...hps.map((hp) => el("div", { class: "chart slice", id: `slice-${hp.Name}`, role: "img", "aria-label": `Objective against ${hp.Name}` })));
    }
    for (const hp of hps) {
      chart(`slice-${hp.Name}`, {
        title: { text: hp.Name, textStyle: { fontSize: 13 } },
        xAxis: { ...axisFor(hp), name: hp.Name }, yAxis: { type: "value", scale: true },
        series: [{ type: "scatter", symbolSize: 5, data: scored.map((p) => [valueOf(hp, p.HyperParameters[hp.Name]), p.Objective]) }],
      });
      await painted();
    }
    const workers = [...new Set(o.Timeline.map((t) => t.Worker))].sort();
    chart("timeline", {
      tooltip: { formatter: (p) => `${p.value[3]} (${p.value[4]})` },
      grid: { left: 140 },
      xAxis: { type: "time" }, yAxis: { type: "category", data: workers },
      series: [{
        type: "custom",
        renderItem: (params, api) => {
          const start = api.coord([api.value(1), api.value(0)]);
          const end = api.coord([api.value(2), api.value(0)]);
          const height = api.size([0, 1])[1] * 0.6;
          return { type: "rect", shape: { x: start[0], y: start[1] - height / 2, width: Math.max(2, end[0] - start[0]), height }, style: api.style({ fill: api.value(4) === "Failed" ? "#b2182b" : api.value(4) === "Stopped" ? "#999" : "#2166ac" }) };
        },
        encode: { x: [1, 2], y: 0 },
        data: o.Timeline.map((t) => [workers.indexOf(t.Worker), t.Start * 1000, t.End * 1000, t.TrainingJobName, t.Status]),
      }],
    });
  }

  function fillSelect(select, names, chosen) {
    if (select.options.length === names.length) return;
    select.replaceChildren(...names.map((n) => el("option", { value: n }, n)));
    if (chosen) select.value = chosen;
  }

  async function loadContour() {
    const names = overview.HyperParameters.map((hp) => hp.Name);
    const xs = document.getElementById("contour-x"), ys = document.getElementById("contour-y");
    fillSelect(xs, names, names[0]); fillSelect(ys, names, names[1] || names[0]);
    if (names.length < 2) return;
    const c = await getJSON(`${base}/contour?x=${encodeURIComponent(xs.value)}&y=${encodeURIComponent(ys.value)}`);
    const cells = [];
    c.Grid.forEach((row, yi) => row.forEach((v, xi) => { if (v !== null) cells.push([xi, yi, v]); }));
    const values = cells.map((cell) => cell[2]);
    chart("contour", {
      tooltip: {},
      grid: { left: 80, bottom: 70 },
      xAxis: { type: "category", data: c.XLabels.map(label), name: c.X, axisLabel: { rotate: 45 } },
      yAxis: { type: "category", data: c.YLabels.map(label), name: c.Y },
      visualMap: { min: values.length ? Math.min(...values) : 0, max: values.length ? Math.max(...values) : 1, calculable: true, orient: "horizontal", left: "center", bottom: 0, inRange: { color: ["#2166ac", "#f7f7f7", "#b2182b"] } },
      series: [{ type: "heatmap", data: cells }],
    });
  }

  async function loadCurves() {
    const select = document.getElementById("curve-metric");
    const metric = select.value || "";
    const c = await getJSON(`${base}/curves${metric ? `?metric=${encodeURIComponent(metric)}` : ""}`);
    fillSelect(select, c.MetricNames, c.MetricName);
    chart("curves", {
      tooltip: { trigger: "item" },
      xAxis: { type: "value", name: "step" }, yAxis: { type: "value", scale: true, name: c.MetricName },
      series: c.Series.map((s) => ({
        name: s.TrainingJobName, type: "line", showSymbol: false, data: s.Points,
        lineStyle: { type: s.Status === "Failed" ? "dashed" : s.StoppedEarly ? "dotted" : "solid" },
        endLabel: { show: s.Status === "Failed" || s.StoppedEarly, formatter: s.Status === "Failed" ? "failed" : "stopped early" },
      })),
    });
  }

  async function loadJobs(token) {
    const query = new URLSearchParams({ SortBy: jobs.SortBy, SortOrder: jobs.SortOrder, MaxResults: "20" });
    if (token) query.set("NextToken", token);
    const page = await getJSON(`${base}/training-jobs?${query}`);
    const tbody = document.querySelector("#training-jobs tbody");
    tbody.replaceChildren(...page.TrainingJobSummaries.map((job) => {
      const objective = job.FinalHyperParameterTuningJobObjectiveMetric;
      const active = job.TrainingJobStatus === "InProgress";
      return el("tr", { "data-job": job.TrainingJobName },
        el("td", {}, el("a", { href: `/console/training-jobs/${encodeURIComponent(job.TrainingJobName)}` }, job.TrainingJobName)),
        el("td", { class: `status-${job.TrainingJobStatus}` }, job.TrainingJobStatus),
        el("td", {}, objective ? number(objective.Value) : ""),
        el("td", {}, when(job.CreationTime)),
        el("td", {}, Object.entries(job.TunedHyperParameters || {}).map(([k, v]) => `${k}=${v}`).join(", ")),
        el("td", {}, active ? el("button", { type: "button", class: "stop-job", "aria-label": `Stop ${job.TrainingJobName}`, onclick: () => stopTrainingJob(job.TrainingJobName) }, "Stop") : ""));
    }));
    jobs.next = page.NextToken || null;
    document.getElementById("jobs-next").disabled = !jobs.next;
    document.getElementById("jobs-first").disabled = !token;
  }

  async function stopTrainingJob(name) {
    await post(`/console/api/training-jobs/${encodeURIComponent(name)}/stop`).catch(show);
    seen = ""; refresh(false);
  }

  document.querySelectorAll("#training-jobs th button").forEach((button) => button.addEventListener("click", () => {
    const sort = button.dataset.sort;
    jobs.SortOrder = jobs.SortBy === sort && jobs.SortOrder === "Descending" ? "Ascending" : "Descending";
    jobs.SortBy = sort; jobs.tokens = [];
    document.querySelectorAll("#training-jobs th").forEach((th) => th.removeAttribute("aria-sort"));
    button.parentElement.setAttribute("aria-sort", jobs.SortOrder === "Ascending" ? "ascending" : "descending");
    loadJobs(null).catch(show);
  }));
  document.getElementById("jobs-next").addEventListener("click", () => { jobs.tokens.push(jobs.next); loadJobs(jobs.next).catch(show); });
  document.getElementById("jobs-first").addEventListener("click", () => { jobs.tokens = []; loadJobs(null).catch(show); });
  document.getElementById("contour-x").addEventListener("change", () => loadContour().catch(show));
  document.getElementById("contour-y").addEventListener("change", () => loadContour().catch(show));
  document.getElementById("curve-metric").addEventListener("change", () => loadCurves().catch(show));
  document.getElementById("stop-tuning-job").addEventListener("click", async () => {
    if (!window.confirm(`Stop ${NAME}? Its running training jobs are told to stop.`)) return;
    await post(`${base}/stop`).catch(show);
    seen = ""; refresh(false);
  });

  async function boto3Snippet() {
    const request = await getJSON(`${base}/create-request`);
    request.HyperParameterTuningJobName = NAME;
    const text = `import json\nimport boto3\n\nsm = boto3.client("sagemaker", endpoint_url=${JSON.stringify(window.location.origin)})\n` +
      `request = json.loads(r"""${JSON.stringify(request, null, 2)}""")\nsm.create_hyper_parameter_tuning_job(**request)\n`;
    document.getElementById("boto3").textContent = text;
  }
  document.getElementById("copy-boto3").addEventListener("click", () => navigator.clipboard?.writeText(document.getElementById("boto3").textContent));

  // Each poll asks for the small /history first (the page head preloads the first one);
  // only when its counts or the tuning job changed does the page draw it and fetch the rest.
  let preloaded = true;
  async function refresh(schedule) {
    const began = performance.now();
    try {
      const h = await getJSON(`${base}/history`, preloaded ? "default" : "no-store");
      preloaded = false;
      const signature = `${h.LastModifiedTime}|${h.TuningJobStatus}|${h.TrainingJobCount}|${JSON.stringify(h.StatusCounts)}`;
      if (signature !== seen) {
        const rest = getJSON(base); // the server works on it while the browser draws
        drawHistory(h);
        await painted();
        overview = await rest;
        renderSummary(overview);
        await renderCharts(overview);
        await Promise.all([loadJobs(jobs.tokens[jobs.tokens.length - 1] || null), loadContour(), loadCurves()]);
        seen = signature;
        document.body.dataset.rendered = String(h.TrainingJobCount);
      }
    } catch (error) { show(error); }
    // A big job's summary costs the server more: poll no faster than 3x what it took.
    if (schedule) setTimeout(() => refresh(true), Math.max(POLL_MS, 3 * (performance.now() - began)));
  }
  refresh(true).then(() => boto3Snippet()).catch(show);
}

// --- one training job ---------------------------------------------------------------------
function trainingJobPage() {
  const base = `/console/api/training-jobs/${encodeURIComponent(NAME)}`;
  let seen = "";
  async function refresh() {
    const d = await getJSON(base);
    const job = d.TrainingJob;
    const signature = `${job.LastModifiedTime}|${JSON.stringify(d.Metrics).length}`;
    if (signature !== seen) {
      seen = signature;
      document.getElementById("summary").textContent = `${job.TrainingJobStatus} · ${job.SecondaryStatus}` +
        (job.FailureReason ? ` · ${job.FailureReason}` : "") + ` · created ${when(job.CreationTime)}` +
        (job.TrainingEndTime ? ` · ended ${when(job.TrainingEndTime)}` : "");
      document.body.dataset.status = job.TrainingJobStatus;
      const tuning = (job.TuningJobArn || "").split("/").pop();
      const parent = document.getElementById("parent");
      parent.textContent = `Tuning job ${tuning}`;
      parent.href = `/console/tuning-jobs/${encodeURIComponent(tuning)}`;
      document.getElementById("stop-training-job").disabled = ENDED.has(job.TrainingJobStatus) || d.StopRequested;
      document.querySelector("#hyperparameters tbody").replaceChildren(...Object.entries(job.HyperParameters || {}).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v))));
      document.getElementById("lease").replaceChildren(
        el("dt", {}, "Worker"), el("dd", {}, d.WorkerId || "none"),
        el("dt", {}, "Lease expires"), el("dd", {}, d.LeaseExpiresAt ? when(d.LeaseExpiresAt) : "no lease"),
        el("dt", {}, "Attempt"), el("dd", {}, d.Attempt),
        el("dt", {}, "Stop requested"), el("dd", {}, d.StopRequested ? "yes" : "no"));
      document.querySelector("#transitions tbody").replaceChildren(...(job.SecondaryStatusTransitions || []).map((t) =>
        el("tr", {}, el("td", {}, t.Status), el("td", {}, when(t.StartTime)), el("td", {}, when(t.EndTime)), el("td", {}, t.StatusMessage || ""))));
      chart("metrics", {
        tooltip: { trigger: "axis" },
        legend: {},
        xAxis: { type: "value", name: "step" }, yAxis: { type: "value", scale: true },
        series: Object.entries(d.Metrics).map(([name, points]) => ({ name, type: "line", showSymbol: points.length < 50, data: points })),
      });
    }
    if (!ENDED.has(job.TrainingJobStatus)) setTimeout(() => refresh().catch(show), POLL_MS);
  }
  document.getElementById("stop-training-job").addEventListener("click", async () => {
    await post(`${base}/stop`).catch(show);
    seen = ""; refresh().catch(show);
  });
  refresh().catch(show);
}

// --- new job from an old one --------------------------------------------------------------
function newJobPage() {
  const source = document.body.dataset.source;
  const area = document.getElementById("request");
  if (source) {
    getJSON(`/console/api/tuning-jobs/${encodeURIComponent(source)}/create-request`)
      .then((request) => { area.value = JSON.stringify(request, null, 2); }).catch(show);
  }
  document.getElementById("create").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = document.getElementById("result");
    let request;
    try { request = JSON.parse(area.value); } catch (error) { result.textContent = `Not valid JSON: ${error.message}`; return; }
    try {
      await post("/console/api/tuning-jobs", request);
      const name = request.HyperParameterTuningJobName;
      result.replaceChildren("Created ", el("a", { href: `/console/tuning-jobs/${encodeURIComponent(name)}` }, name));
    } catch (error) { result.textContent = error.message; }
  });
}

({ "tuning-jobs": tuningJobsPage, "tuning-job": tuningJobPage, "training-job": trainingJobPage, "new-job": newJobPage })[PAGE]?.();
