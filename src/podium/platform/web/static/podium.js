// Podium's pages: each fills itself from the JSON API with the token in localStorage.
// No framework, no build step. Everything the server sends is put in the page as text
// (never as HTML).
"use strict";

const TOKEN_KEY = "podium.token";
const FINAL = new Set(["scored", "failed", "cancelled", "rejected"]);
const LOG_KEEP = 64 * 1024; // characters of log kept on the page (the tail)

// -- the API ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message, hint) {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint || "";
  }
}

function getToken() {
  return localStorage.getItem(TOKEN_KEY);
}

async function api(path, token) {
  const headers = { Accept: "application/json" };
  const t = token === undefined ? getToken() : token;
  if (t) headers.Authorization = "Bearer " + t;
  let response;
  try {
    response = await fetch(path, { headers, cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, "SERVER_UNREACHABLE", "the server did not answer", "check that it runs, then reload this page");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  if (!response.ok) {
    const err = (body && body.error) || {};
    throw new ApiError(response.status, err.code || "HTTP_" + response.status,
      err.message || response.statusText || "request failed", err.hint || "");
  }
  return body;
}

// -- building the page -----------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "style") el.style.cssText = value; // CSSOM: allowed by the pages' CSP, a style attribute is not
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function $(id) {
  return document.getElementById(id);
}

function fill(el, ...nodes) {
  el.classList.remove("loading", "muted");
  el.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined));
}

function badge(state) {
  return h("span", { class: "badge state-" + state, "data-state": state, text: state });
}

function errorBox(err) {
  const box = h("div", { class: "error", role: "alert", "data-code": err.code || "" },
    h("strong", { class: "code", text: err.code || "ERROR" }), " ",
    h("span", { class: "message", text: err.message || String(err) }));
  if (err.hint) box.append(h("div", { class: "hint", text: "→ " + err.hint }));
  if (err.status === 401) {
    box.append(h("div", { class: "hint" }, h("a", { href: "/login", text: "Log in with your API token" })));
  }
  return box;
}

function showError(err) {
  const el = $("error");
  if (!el) return;
  if (err) fill(el, errorBox(err));
  else el.replaceChildren();
}

function table(headers, rows, attrs) {
  // a header sits over its column: right-aligned where the first row's cell is a number
  const first = rows.length ? rows[0].children : [];
  const numeric = (i) => Boolean(first[i] && first[i].classList.contains("num"));
  return h("table", Object.assign({ class: "table" }, attrs || {}),
    h("thead", {}, h("tr", {}, headers.map((t, i) => h("th", numeric(i) ? { class: "num", text: t } : { text: t })))),
    h("tbody", {}, rows));
}

function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  if (seconds < 10) return seconds.toFixed(1) + " s";
  if (seconds < 60) return Math.round(seconds) + " s";
  const m = Math.floor(seconds / 60);
  if (m < 60) return m + " min " + String(Math.round(seconds % 60)).padStart(2, "0") + " s";
  return Math.floor(m / 60) + " h " + String(m % 60).padStart(2, "0") + " min";
}

function fmtSeconds(s) {
  if (s === null || s === undefined) return "–";
  return s < 1 ? (s * 1000).toFixed(0) + " ms" : s.toFixed(2) + " s";
}

function fmtNum(x, digits) {
  return x === null || x === undefined ? "–" : Number(x).toFixed(digits === undefined ? 3 : digits);
}

function seconds(a, b) {
  return (new Date(b) - new Date(a)) / 1000;
}

function shortCommit(c) {
  return c ? c.slice(0, 10) : "";
}

function submissionLink(id) {
  return h("a", { href: "/submissions/" + id, text: "#" + id });
}

// A submission's page is open to its owner and to organisers: others see its number only.
function submissionRef(id, owner, me) {
  const mine = me && (me.role === "organiser" || me.name === owner);
  return mine ? submissionLink(id) : h("span", { class: "muted", text: "#" + id });
}

// Run `step` now and again every `ms` while it returns true; errors go to `report`
// (the page's error box by default, cleared by the next success), and polling goes on
// (the server may be restarting) unless the error is 401/403/404.
function poll(step, ms, report) {
  const show = report || showError;
  async function run() {
    let again = true;
    try {
      again = await step();
      show(null);
    } catch (err) {
      show(err);
      again = ![401, 403, 404].includes(err.status);
    }
    if (again) setTimeout(run, ms);
  }
  run();
}

// -- who is logged in (every page) -----------------------------------------------------

async function showWhoami() {
  const who = $("whoami");
  const link = $("login-link");
  if (!getToken()) {
    who.textContent = "not logged in";
    link.textContent = "Log in";
    return null;
  }
  try {
    const me = await api("/api/me");
    fill(who, h("span", { class: "user", text: me.name }), " ", h("span", { class: "badge role", text: me.role }));
    link.textContent = "Account";
    return me;
  } catch (err) {
    who.textContent = err.status === 401 ? "token not valid" : "?";
    link.textContent = "Log in";
    return null;
  }
}

// -- pages -----------------------------------------------------------------------------

async function pageChallenges() {
  try {
    const list = await api("/api/challenges");
    if (!list.length) {
      fill($("challenges"), h("p", { class: "muted",
        text: "No challenges yet. Organisers add them with 'podium admin add-challenge'." }));
      return;
    }
    const rows = list.map((c) => h("tr", { "data-challenge": c.name },
      h("td", {}, h("a", { href: "/challenges/" + encodeURIComponent(c.name) + "/leaderboard", text: c.name })),
      h("td", { text: c.title }),
      h("td", {}, h("span", { class: "badge target", text: c.target })),
      h("td", { text: c.primary_metric }),
      h("td", { text: c.quotas.submissions + " per " + c.quotas.window.replace("_", " ") }),
      h("td", {}, h("a", { href: "/challenges/" + encodeURIComponent(c.name) + "/leaderboard", text: "Leaderboard →" }))));
    fill($("challenges"), table(["challenge", "title", "target", "metric", "submissions", ""], rows, { id: "challenge-table" }));
  } catch (err) {
    fill($("challenges"));
    showError(err);
  }
}

function pageLogin() {
  const form = $("login-form");
  const status = $("login-status");
  const input = $("token");
  function loggedIn(me) {
    fill(status, h("p", { class: "ok" }, "Logged in as ", h("strong", { text: me.name }), " (" + me.role + "). ",
      h("a", { href: "/submissions", text: "My submissions" }), " · ", h("a", { href: "/", text: "Challenges" }),
      me.role === "organiser" ? [" · ", h("a", { href: "/admin/queue", text: "Queue" })] : null));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    showError(null);
    status.replaceChildren();
    try {
      const me = await api("/api/me", token);
      localStorage.setItem(TOKEN_KEY, token);
      input.value = "";
      loggedIn(me);
      showWhoami();
    } catch (err) {
      showError(err);
    }
  });
  $("logout-button").addEventListener("click", () => {
    localStorage.removeItem(TOKEN_KEY);
    showError(null);
    fill(status, h("p", { text: "Logged out: the token was removed from this browser." }));
    showWhoami();
  });
  if (getToken()) api("/api/me").then(loggedIn).catch(() => {});
}

async function pageLeaderboard() {
  const me = await WHOAMI;
  const name = document.body.dataset.challenge;
  const path = "/api/challenges/" + encodeURIComponent(name) + "/leaderboard?split=";
  api("/api/challenges").then((list) => {
    const c = list.find((x) => x.name === name);
    if (!c) return;
    $("challenge-title").textContent = c.title + " (" + c.name + ")";
    fill($("challenge-info"), c.description || "", c.description ? " " : "", "Target ",
      h("span", { class: "badge target", text: c.target }), ", ranked by ", h("strong", { text: c.primary_metric }), ".");
  }).catch(() => {});
  async function show(split) {
    for (const tab of document.querySelectorAll(".tab")) {
      tab.setAttribute("aria-pressed", String(tab.dataset.split === split));
    }
    showError(null);
    try {
      const board = await api(path + split);
      if (!board.rows.length) {
        fill($("leaderboard"), h("p", { class: "muted", text: "No scored submission yet on the " + split + " split." }));
        return;
      }
      const rows = board.rows.map((r) => h("tr", { "data-rank": r.rank },
        h("td", { class: "rank", text: r.rank }),
        h("td", { class: "participant", text: r.participant }),
        h("td", {}, h("code", { text: (r.hf_repo || "") + (r.pinned_commit ? "@" + shortCommit(r.pinned_commit) : "") }),
          r.model_type ? " " : null, r.model_type ? h("span", { class: "badge target", text: r.model_type }) : null),
        h("td", { class: "score num", text: fmtNum(r.score) }),
        h("td", { class: "num", text: fmtNum(r.tokens_per_s, 1) }),
        h("td", { text: fmtTime(r.submitted_at) }),
        h("td", {}, submissionRef(r.submission_id, r.participant, me))));
      const metric = board.rows[0].metric;
      fill($("leaderboard"), table(["rank", "participant", "model", metric + " (" + split + ")", "output tok/s", "submitted", "submission"],
        rows, { id: "leaderboard-table" }));
    } catch (err) {
      fill($("leaderboard"));
      showError(err);
    }
  }
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => show(tab.dataset.split));
  }
  show("public");
}

function pageSubmissions() {
  poll(async () => {
    const list = await api("/api/submissions");
    if (!list.length) {
      fill($("submissions"), h("p", { class: "muted", text: "No submissions yet." }));
      return true;
    }
    const rows = list.map((s) => h("tr", { "data-id": s.id },
      h("td", {}, submissionLink(s.id)),
      h("td", {}, h("a", { href: "/challenges/" + encodeURIComponent(s.challenge) + "/leaderboard", text: s.challenge })),
      h("td", { text: s.owner }),
      h("td", {}, h("code", { text: s.hf_repo || "" })),
      h("td", {}, badge(s.state), s.queue_position ? " #" + s.queue_position + " in queue" : ""),
      h("td", { class: "num", text: fmtNum(s.score) }),
      h("td", {}, s.error ? h("span", { class: "code", text: s.error.code }) : ""),
      h("td", { text: fmtTime(s.created_at) })));
    fill($("submissions"), table(["id", "challenge", "owner", "model", "state", "score", "error", "submitted"],
      rows, { id: "submissions-table" }));
    return list.some((s) => !FINAL.has(s.state));
  }, 3000);
}

function renderSummary(s) {
  const facts = [
    ["challenge", h("a", { href: "/challenges/" + encodeURIComponent(s.challenge) + "/leaderboard", text: s.challenge })],
    ["owner", s.owner],
    ["model", h("code", { text: s.hf_repo || "–" })],
    ["revision", (s.requested_revision || "–") + (s.pinned_commit ? " → " + shortCommit(s.pinned_commit) : "")],
    ["model type", s.model_type || "–"],
    ["attempts", String(s.attempts)],
    ["submitted", fmtTime(s.created_at)],
  ];
  if (s.queue_position) facts.push(["queue position", h("strong", { id: "queue-position", text: "#" + s.queue_position })]);
  if (s.progress && s.progress.total) {
    const pct = Math.round((100 * (s.progress.done || 0)) / s.progress.total);
    facts.push(["progress", h("span", { id: "progress" },
      h("span", { class: "meter" }, h("span", { style: "width:" + pct + "%" })),
      " " + (s.progress.done || 0) + " / " + s.progress.total + " requests")]);
  }
  fill($("summary"), facts.map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]));
}

function renderTimeline(s) {
  const events = s.events || [];
  const final = FINAL.has(s.state);
  const now = new Date().toISOString();
  const spans = events.map((e, i) => {
    const end = i + 1 < events.length ? events[i + 1].at : (final ? null : now);
    return end ? Math.max(0, seconds(e.at, end)) : null;
  });
  const longest = Math.max(1e-9, ...spans.filter((x) => x !== null));
  const rows = events.map((e, i) => {
    const last = i === events.length - 1;
    const running = last && !final;
    const d = spans[i];
    return h("tr", { "data-state": e.state, class: running ? "current" : null },
      h("td", {}, badge(e.state)),
      h("td", { text: fmtTime(e.at) }),
      h("td", { class: "num duration", text: d === null ? "" : fmtDuration(d) + (running ? " so far" : "") }),
      h("td", { class: "bar-cell" }, d === null ? null : h("span", { class: "bar state-" + e.state,
        style: "width:" + Math.max(1, Math.round((100 * d) / longest)) + "%" })),
      h("td", { class: "detail", text: e.detail || "" }));
  });
  if (events.length > 1) {
    const total = seconds(events[0].at, final ? events[events.length - 1].at : now);
    rows.push(h("tr", { class: "total" }, h("td", { text: "total" }), h("td"),
      h("td", { class: "num", id: "total-duration", text: fmtDuration(total) }), h("td"), h("td")));
  }
  $("timeline").tBodies[0].replaceChildren(...rows);
}

function renderFindings(s) {
  const findings = s.findings || [];
  if (!findings.length) {
    fill($("findings"), h("li", { class: "muted", text: "No findings: the preflight found nothing to report." }));
    return;
  }
  fill($("findings"), findings.map((f) => h("li", { class: "finding", "data-code": f.code },
    h("span", { class: "badge severity-" + f.severity, text: f.severity }), " ",
    h("strong", { class: "code", text: f.code }), " ",
    h("span", { text: f.message }),
    f.hint ? h("div", { class: "hint", text: "→ " + f.hint }) : null)));
}

function renderScore(s) {
  const r = s.report;
  if (s.score === null && !r) {
    if (FINAL.has(s.state)) fill($("score"), h("span", { class: "muted", text: "Not scored (" + s.state + ")." }));
    return;
  }
  const metric = (r && r.primary_metric) || "score";
  const parts = [h("div", { class: "big" }, h("span", { id: "score-value", text: fmtNum(s.score) }),
    h("span", { class: "muted", text: " " + metric + " (public split)" }))];
  const metrics = r && r.metrics && r.metrics.public;
  if (metrics && Object.keys(metrics).length) {
    parts.push(table(["metric", "public"], Object.entries(metrics).map(([k, v]) =>
      h("tr", {}, h("td", { text: k }), h("td", { class: "num", text: fmtNum(v) })))));
  }
  fill($("score"), parts);
}

function renderStats(s) {
  const rq = s.report && s.report.requests;
  if (!rq || !Object.keys(rq).length) return;
  const dist = (d) => (d ? [50, 90, 99].map((q) => fmtSeconds(d["p" + q])).join(" / ") : "–");
  const rows = [
    ["requests / errors", rq.requests === undefined ? "–" : rq.requests + " / " + rq.errors],
    ["output tokens/s", fmtNum(rq.output_tokens_per_s, 1)],
    ["requests/s", fmtNum(rq.requests_per_s, 2)],
    ["latency p50 / p90 / p99", dist(rq.latency_s)],
    ["TTFT p50 / p90 / p99", dist(rq.ttft_s)],
    ["prompt / output tokens", rq.prompt_tokens === undefined ? "–" : rq.prompt_tokens + " / " + rq.output_tokens],
    ["concurrency (max in flight)", rq.concurrency === undefined ? "–" : rq.concurrency + " (" + rq.max_in_flight + ")"],
    ["wall time", rq.wall_s === undefined ? "–" : fmtDuration(rq.wall_s)],
  ];
  const timings = Object.entries((s.report && s.report.stage_timings) || {})
    .map(([k, v]) => ["stage " + k, fmtDuration(v)]);
  fill($("stats"), h("table", { class: "table kv", id: "stats-table" }, h("tbody", {},
    [...rows, ...timings].map(([k, v]) => h("tr", { "data-key": k }, h("th", { text: k }), h("td", { class: "num", text: v }))))));
}

function renderHistogram(s) {
  const hist = s.report && s.report.requests && s.report.requests.latency_histogram;
  if (!hist || !hist.counts || !hist.counts.length) {
    if (s.report) fill($("histogram"), h("p", { class: "muted", text: "This report has no latency histogram." }));
    return;
  }
  const NS = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    return el;
  };
  const W = 420, H = 180, pad = { l: 36, r: 8, t: 8, b: 34 };
  const n = hist.counts.length;
  const max = Math.max(1, ...hist.counts);
  const bw = (W - pad.l - pad.r) / n;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img",
    "aria-label": "latency histogram: " + hist.counts.reduce((a, b) => a + b, 0) + " requests" });
  svg.append(svgEl("line", { x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b, class: "axis" }));
  hist.counts.forEach((count, i) => {
    const bh = ((H - pad.t - pad.b) * count) / max;
    const rect = svgEl("rect", { class: "hbar", x: pad.l + i * bw + 1, y: H - pad.b - bh, width: Math.max(1, bw - 2),
      height: bh, "data-count": count });
    const title = svgEl("title", {});
    title.textContent = fmtSeconds(hist.edges_s[i]) + " – " + fmtSeconds(hist.edges_s[i + 1]) + ": " + count + " requests";
    rect.append(title);
    svg.append(rect);
  });
  const label = (x, y, text, anchor) => {
    const t = svgEl("text", { x, y, "text-anchor": anchor || "middle", class: "tick" });
    t.textContent = text;
    svg.append(t);
  };
  label(pad.l, H - pad.b + 14, fmtSeconds(hist.edges_s[0]), "start");
  label(pad.l + (W - pad.l - pad.r) / 2, H - pad.b + 14, fmtSeconds(hist.edges_s[Math.floor(n / 2)]));
  label(W - pad.r, H - pad.b + 14, fmtSeconds(hist.edges_s[n]), "end");
  label(pad.l + (W - pad.l - pad.r) / 2, H - 4, "latency per request");
  label(pad.l - 4, pad.t + 10, String(max), "end");
  label(pad.l - 4, H - pad.b, "0", "end");
  fill($("histogram"), svg);
}

function pageSubmission() {
  const id = document.body.dataset.id;
  let logOffset = 0;
  let logDone = false;
  let final = false;
  let lastSeen = null;
  const log = $("log");

  async function readLog() {
    const chunk = await api("/api/submissions/" + id + "/logs?offset=" + logOffset);
    if (chunk.text) {
      const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      let text = log.textContent + chunk.text;
      if (text.length > LOG_KEEP) text = "…\n" + text.slice(text.length - LOG_KEEP);
      log.textContent = text;
      if (stick) log.scrollTop = log.scrollHeight;
    }
    logOffset = chunk.next_offset;
    logDone = chunk.done;
    $("log-state").textContent = logDone ? "(complete)" : "(following)";
    if (!log.textContent) log.textContent = logDone ? "(no log)" : "";
  }

  poll(async () => {
    const s = await api("/api/submissions/" + id);
    final = FINAL.has(s.state);
    fill($("state"), badge(s.state));
    document.title = "Submission " + id + " (" + s.state + ") · Podium";
    renderSummary(s);
    renderTimeline(s);
    renderFindings(s);
    renderScore(s);
    renderStats(s);
    renderHistogram(s);
    const err = $("submission-error");
    if (s.error) fill(err, errorBox(s.error));
    else err.replaceChildren();
    lastSeen = new Date();
    $("live").textContent = final
      ? "Finished: " + s.state + "."
      : "Live: updated every second (last " + lastSeen.toLocaleTimeString() + ").";
    return !final;
  }, 1000);

  poll(async () => {
    await readLog();
    return !logDone;
  }, 1000, (err) => {
    if (err) $("log-state").textContent = "(" + err.code + ": " + err.message + ")";
  });
}

function pageQueue() {
  poll(async () => {
    const q = await api("/api/admin/queue");
    $("queue-view").hidden = false;
    fill($("executor"), q.dispatcher
      ? ["Dispatcher on; attempts run on the ", h("strong", { text: q.executor }), " executor."]
      : ["Dispatcher off (", h("code", { text: "PODIUM_DISPATCHER=false" }), "): this server starts nothing."]);
    const away = q.executor_unavailable;
    $("executor-unavailable").hidden = !away;
    if (away) {
      fill($("executor-unavailable"), h("strong", { text: "The " + q.executor + " executor cannot start submissions" }),
        " since " + fmtTime(away.since) + " (" + away.failures + (away.failures === 1 ? " try" : " tries") +
        "; next in " + away.retry_in_s.toFixed(0) + " s): queued submissions wait, nothing is counted against anyone. ",
        h("code", { text: away.reason }));
    }
    $("capacity").tBodies[0].replaceChildren(...q.targets.map((t) => h("tr", { "data-target": t.target },
      h("td", {}, h("span", { class: "badge target", text: t.target })),
      h("td", { class: "num slots", text: t.slots }),
      h("td", { class: "num running", text: t.running }),
      h("td", { class: "num queued", text: t.queued }),
      h("td", { class: "num free", text: t.free }),
      h("td", { class: "bar-cell" }, h("span", { class: "meter" },
        h("span", { style: "width:" + (t.slots ? Math.min(100, Math.round((100 * t.running) / t.slots)) : 0) + "%" })),
      " " + t.running + " of " + t.slots))));
    if (!q.submissions.length) {
      fill($("inflight"), h("p", { class: "muted", text: "Nothing queued or running." }));
    } else {
      fill($("inflight"), table(["id", "challenge", "owner", "target", "state", "queue", "attempts", "since"],
        q.submissions.map((s) => h("tr", { "data-id": s.id },
          h("td", {}, submissionLink(s.id)),
          h("td", { text: s.challenge }),
          h("td", { text: s.owner }),
          h("td", { text: s.target }),
          h("td", {}, badge(s.state)),
          h("td", { class: "num", text: s.queue_position ? "#" + s.queue_position : "" }),
          h("td", { class: "num", text: s.attempts }),
          h("td", { text: fmtDuration(seconds(s.updated_at, new Date().toISOString())) }))), { id: "inflight-table" }));
    }
    if (!q.attempts.length) {
      fill($("attempts"), h("p", { class: "muted", text: "No attempt running." }));
    } else {
      fill($("attempts"), table(["attempt", "submission", "number", "executor", "target", "process", "started", "last heartbeat"],
        q.attempts.map((a) => h("tr", { "data-id": a.id },
          h("td", { text: a.id }),
          h("td", {}, submissionLink(a.submission_id)),
          h("td", { class: "num", text: a.number }),
          h("td", { text: a.executor }),
          h("td", { text: a.target }),
          h("td", { text: a.ray_job ? "Ray job " + a.ray_job : a.pid ? "pid " + a.pid : "" }),
          h("td", { text: fmtTime(a.started_at) }),
          h("td", { text: a.heartbeat_at ? fmtDuration(seconds(a.heartbeat_at, new Date().toISOString())) + " ago" : "–" })))));
    }
    return true;
  }, 2000);
}

const PAGES = {
  challenges: pageChallenges,
  login: pageLogin,
  leaderboard: pageLeaderboard,
  submissions: pageSubmissions,
  submission: pageSubmission,
  queue: pageQueue,
};

const WHOAMI = showWhoami();  // the user (or null), for pages that show more to owners
(PAGES[document.body.dataset.page] || (() => {}))();
