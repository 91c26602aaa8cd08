// Pacer planning dashboard: reads everything through POST /graphql with the token kept in
// sessionStorage. Numbers arrive as decimal strings and are formatted as strings (BigInt
// rounding, half away from zero) — never through floating point; floats only place chart points.
"use strict";

(() => {
  const TOKEN_KEY = "pacer.token";
  const HEALTHS = ["ON_TRACK", "AT_RISK", "OFF_TRACK", "ACHIEVED", "MISSED", "NOT_STARTED", "INSUFFICIENT_DATA"];
  const HEALTH_LABEL = {
    ON_TRACK: "on track", AT_RISK: "at risk", OFF_TRACK: "off track", ACHIEVED: "achieved",
    MISSED: "missed", NOT_STARTED: "not started", INSUFFICIENT_DATA: "insufficient data",
  };
  const HEALTH_COLOUR = {
    ON_TRACK: "#1e8e3e", ACHIEVED: "#0b6b2a", AT_RISK: "#d48806", OFF_TRACK: "#d93025",
    MISSED: "#9b1c1c", NOT_STARTED: "#9aa5b1", INSUFFICIENT_DATA: "#9aa5b1",
  };
  const $ = (id) => document.getElementById(id);
  const state = {
    plans: [], plan: null, metrics: {}, targets: [], reviews: [], view: "targets", expanded: new Set(),
  };

  // ---- decimal strings ----------------------------------------------------------------------

  function decimalParts(text) {
    let s = String(text).trim();
    let negative = false;
    if (s[0] === "-" || s[0] === "+") { negative = s[0] === "-"; s = s.slice(1); }
    let exponent = 0;
    const e = s.search(/e/i);
    if (e >= 0) { exponent = parseInt(s.slice(e + 1), 10); s = s.slice(0, e); }
    const [whole, fraction = ""] = s.split(".");
    return { negative, digits: BigInt((whole + fraction) || "0"), scale: fraction.length - exponent };
  }

  // `text` × 10^shift rounded to `places` decimals, half away from zero: "1234.565" → "1,234.57".
  function formatNumber(text, places, shift = 0) {
    if (text === null || text === undefined) return "—";
    let { negative, digits, scale } = decimalParts(text);
    scale -= shift;
    const k = places - scale;
    let n;
    if (k >= 0) {
      n = digits * 10n ** BigInt(k);
    } else {
      const d = 10n ** BigInt(-k);
      n = digits / d;
      if ((digits % d) * 2n >= d) n += 1n;
    }
    if (n === 0n) negative = false;
    const s = n.toString().padStart(places + 1, "0");
    const whole = s.slice(0, s.length - places).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (negative ? "-" : "") + whole + (places ? "." + s.slice(s.length - places) : "");
  }

  const percent = (text, places = 1) => (text == null ? "—" : formatNumber(text, places, 2) + " %");

  function formatValue(text, unit) {
    if (text === null || text === undefined) return "—";
    switch (unit) {
      case "money": return "¥" + formatNumber(text, 2);
      case "ratio": return formatNumber(text, 2, 2) + " %";
      case "percent": return formatNumber(text, 2) + " %";
      case "score": return formatNumber(text, 1);
      default: return formatNumber(text, 0);
    }
  }

  // ---- DOM helpers --------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "style") node.style.cssText = value; // CSSOM: allowed under the page's CSP
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  // ---- GraphQL ------------------------------------------------------------------------------

  class Unauthorized extends Error {}

  async function graphql(query, variables) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ query, variables }),
    });
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (response.status === 401) {
      const message = body && body.errors && body.errors[0] ? body.errors[0].message : "Unauthorized";
      throw new Unauthorized(message);
    }
    if (!body || (!response.ok && !body.data)) {
      const message = body && body.errors && body.errors[0] ? body.errors[0].message : response.statusText;
      throw new Error(message || "The gateway did not answer.");
    }
    return body;
  }

  function showErrors(errors) {
    const list = (errors || []).map((e) => {
      const code = e.extensions && e.extensions.code ? e.extensions.code + ": " : "";
      return code + e.message;
    });
    $("errors").textContent = [...new Set(list)].join("\n");
  }

  // ---- dates --------------------------------------------------------------------------------

  function todayIn(timeZone) {
    try {
      return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
        .format(new Date());
    } catch (_) {
      return new Date().toISOString().slice(0, 10);
    }
  }

  const iso = (d) => d.toISOString().slice(0, 10);
  const dayNumber = (text) => Date.parse(text + "T00:00:00Z") / 86400000;

  // Month ends from the plan's start up to (not including) as-of: the chart's points.
  function monthEnds(plan, asOf) {
    const out = [];
    const end = asOf < plan.endsOn ? asOf : plan.endsOn;
    const start = new Date(plan.startsOn + "T00:00:00Z");
    let cursor = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 0));
    while (iso(cursor) < end && out.length < 24) {
      out.push(iso(cursor));
      cursor = new Date(Date.UTC(cursor.getUTCFullYear(), cursor.getUTCMonth() + 2, 0));
    }
    return out;
  }

  // ---- URL state ----------------------------------------------------------------------------

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    return Object.fromEntries(params.entries());
  }

  function writeHash() {
    const params = new URLSearchParams();
    if (state.plan) params.set("plan", state.plan.code);
    if ($("as-of").value) params.set("asOf", $("as-of").value);
    if ($("quarter").value) params.set("quarter", $("quarter").value);
    if ($("department").value) params.set("department", $("department").value);
    if (state.view !== "targets") params.set("view", state.view);
    if (state.view === "reviews" && $("review").value) params.set("review", $("review").value);
    history.replaceState(null, "", "#" + params.toString());
  }

  // ---- sign in ------------------------------------------------------------------------------

  function showLogin(message) {
    $("app").hidden = true;
    $("tabs").hidden = true;
    $("session").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("dev-token").hidden = document.body.dataset.development !== "true";
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(message);
  }

  async function signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token.trim());
    $("token-input").value = "";
    try {
      await start();
    } catch (error) {
      if (error instanceof Unauthorized) signOut("That token was refused: " + error.message);
      else throw error;
    }
  }

  async function useDevelopmentToken() {
    const response = await fetch("/dashboard/dev-token", { method: "POST" });
    if (!response.ok) {
      $("login-error").textContent = "No development tokens here (production mode).";
      return;
    }
    await signIn((await response.json()).token);
  }

  // ---- loading ------------------------------------------------------------------------------

  const PLANS = `query Plans($after: String) {
    plans(first: 100, after: $after) { items { id code name fiscalYear status startsOn endsOn timezone } nextCursor }
    metricDefinitions { key name unit direction }
  }`;

  async function start() {
    const hash = readHash();
    const plans = [];
    let after = null;
    let metrics = [];
    for (let page = 0; page < 20; page++) {
      const body = await graphql(PLANS, { after });
      showErrors(body.errors);
      const connection = body.data && body.data.plans;
      if (body.data && body.data.metricDefinitions) metrics = body.data.metricDefinitions;
      if (!connection) break;
      plans.push(...connection.items);
      after = connection.nextCursor;
      if (!after) break;
    }
    state.metrics = Object.fromEntries(metrics.map((m) => [m.key, m]));
    state.plans = plans.sort((a, b) => (b.fiscalYear - a.fiscalYear) || a.code.localeCompare(b.code));
    $("login").hidden = true;
    $("app").hidden = false;
    $("tabs").hidden = false;
    $("session").hidden = false;
    const select = $("plan");
    select.replaceChildren(...state.plans.map((p) => h("option", { value: p.code }, `${p.code} — ${p.name}`)));
    if (!state.plans.length) {
      $("status").textContent = "No plans yet. Load the demo year with `pacer demo`.";
      return;
    }
    const chosen = state.plans.find((p) => p.code === hash.plan)
      || state.plans.find((p) => p.status === "active") || state.plans[0];
    select.value = chosen.code;
    state.view = hash.view === "reviews" ? "reviews" : "targets";
    await choosePlan(chosen, hash);
  }

  async function choosePlan(plan, hash = {}) {
    state.plan = plan;
    const today = todayIn(plan.timezone || "Asia/Shanghai");
    $("as-of").value = hash.asOf || (today < plan.endsOn ? today : plan.endsOn);
    const quarter = $("quarter");
    quarter.replaceChildren(
      h("option", { value: "" }, "Whole year"),
      ...[1, 2, 3, 4].map((q) => h("option", { value: `${plan.fiscalYear}Q${q}` }, `Q${q} ${plan.fiscalYear}`)),
    );
    quarter.value = hash.quarter || "";
    state.pendingDepartment = hash.department || "";
    state.pendingReview = hash.review || "";
    showView(state.view);
    await refresh();
  }

  function boardQuery(points) {
    const variables = points.map((_, i) => `, $d${i}: Date!`).join("");
    const aliases = points.map((_, i) => `p${i}: progress(asOf: $d${i}) { asOf actual expectedToDate health }`).join("\n");
    return `query Board($id: ID!, $asOf: Date!, $activeIn: String${variables}) {
      plan(id: $id) {
        id code name fiscalYear startsOn endsOn timezone status
        targets(activeIn: $activeIn) {
          id parentId name metricKey period startsOn endsOn kind targetValue growthPct baselineValue
          direction additive department weight childrenIds
          scope { category channel region }
          progress(asOf: $asOf) {
            asOf actual expectedToDate attainment pace forecast forecastLow forecastHigh health stale
            expectedMethod lastEventAt
          }
          ${aliases}
        }
      }
    }`;
  }

  async function refresh() {
    if (!state.plan) return;
    writeHash();
    $("status").textContent = "Loading…";
    try {
      if (state.view === "targets") await loadTargets();
      else await loadReviews();
      $("status").textContent = "";
    } catch (error) {
      if (error instanceof Unauthorized) { signOut("Your token was refused: " + error.message); return; }
      $("status").textContent = "";
      $("errors").textContent = String(error.message || error);
    }
  }

  async function loadTargets() {
    const asOf = $("as-of").value;
    const points = monthEnds(state.plan, asOf);
    const variables = { id: state.plan.id, asOf, activeIn: $("quarter").value || null };
    points.forEach((d, i) => { variables["d" + i] = d; });
    const started = performance.now();
    const body = await graphql(boardQuery(points), variables);
    showErrors(body.errors);
    const plan = body.data && body.data.plan;
    state.targets = plan && plan.targets ? plan.targets : [];
    state.points = points;
    fillDepartments();
    renderTargets();
    document.body.dataset.loadedMs = String(Math.round(performance.now() - started));
    document.body.dataset.ready = "targets";
  }

  function fillDepartments() {
    const select = $("department");
    const current = select.value || state.pendingDepartment || "";
    state.pendingDepartment = "";
    const departments = [...new Set(state.targets.map((t) => t.department).filter(Boolean))].sort();
    select.replaceChildren(
      h("option", { value: "" }, "All departments"),
      ...departments.map((d) => h("option", { value: d }, d.replace(/_/g, " "))),
    );
    select.value = departments.includes(current) ? current : "";
  }

  // ---- targets view -------------------------------------------------------------------------

  function treeOrder(targets) {
    const byId = new Map(targets.map((t) => [t.id, t]));
    const children = new Map();
    const roots = [];
    for (const t of targets) {
      if (t.parentId && byId.has(t.parentId)) {
        if (!children.has(t.parentId)) children.set(t.parentId, []);
        children.get(t.parentId).push(t);
      } else {
        roots.push(t);
      }
    }
    const byPeriod = (a, b) => (a.startsOn.localeCompare(b.startsOn)) || a.name.localeCompare(b.name);
    const out = [];
    const visit = (t, depth) => {
      const kids = (children.get(t.id) || []).sort(byPeriod);
      out.push([t, depth, kids.length]);
      // Grandchildren (e.g. a quarter's split by category) stay folded until asked for.
      if (depth >= 1 && !state.expanded.has(t.id)) return;
      for (const c of kids) visit(c, depth + 1);
    };
    roots.sort((a, b) => (Number(b.weight || 0) - Number(a.weight || 0)) || a.name.localeCompare(b.name));
    roots.forEach((t) => visit(t, 0));
    return out;
  }

  function scopeChips(scope) {
    return ["category", "channel", "region"]
      .filter((d) => scope && scope[d])
      .map((d) => h("span", { class: "chip" }, `${d}: ${scope[d]}`));
  }

  function renderTargets() {
    const department = $("department").value;
    const rows = treeOrder(state.targets).filter(([t]) => !department || t.department === department);
    const counts = {};
    let stale = 0;
    for (const [t] of rows) {
      const health = t.progress ? t.progress.health : "NOT_STARTED";
      counts[health] = (counts[health] || 0) + 1;
      if (t.progress && t.progress.stale) stale += 1;
    }
    $("summary").replaceChildren(...[
      h("span", { class: "pill" }, h("b", {}, String(rows.length)), " targets"),
      ...HEALTHS.filter((k) => counts[k]).map((k) =>
        h("span", { class: "pill", "data-health-count": k },
          h("span", { class: "health " + k }, String(counts[k])), " " + HEALTH_LABEL[k])),
      stale ? h("span", { class: "pill" }, h("span", { class: "stale" }, `${stale} stale`)) : null,
    ].filter(Boolean));
    const tbody = $("targets").querySelector("tbody");
    tbody.replaceChildren(...rows.map(([t, depth, kids]) => targetRow(t, Math.min(depth, 2), depth >= 1 ? kids : 0)));
    if (!rows.length) {
      tbody.append(h("tr", {}, h("td", { colspan: 7, class: "sub" }, "No targets match these filters.")));
    }
  }

  function toggle(t) {
    if (state.expanded.has(t.id)) state.expanded.delete(t.id);
    else state.expanded.add(t.id);
    renderTargets();
  }

  function targetRow(t, depth, foldable) {
    const metric = state.metrics[t.metricKey] || { name: t.metricKey, unit: "count" };
    const p = t.progress || {};
    const health = p.health || "NOT_STARTED";
    const attainmentWidth = p.attainment == null ? 0 : Math.max(0, Math.min(1, Number(p.attainment)));
    const expectedShare = p.expectedToDate != null && Number(t.targetValue) > 0 && t.additive
      ? Math.max(0, Math.min(1, Number(p.expectedToDate) / Number(t.targetValue))) : null;
    const goal = t.direction === "lower_is_better" ? "≤ " : "";
    return h("tr", { class: "depth-" + depth, "data-target-id": t.id, "data-health": health },
      h("td", {},
        h("div", { class: "name" },
          foldable
            ? h("button", { type: "button", class: "fold", "aria-expanded": state.expanded.has(t.id) ? "true" : "false",
              title: `${foldable} targets below`, onclick: () => toggle(t) }, state.expanded.has(t.id) ? "▾" : "▸")
            : null,
          h("span", { "data-field": "name" }, t.name)),
        h("div", { class: "meta" },
          metric.name, " · ", t.period || `${t.startsOn} – ${t.endsOn}`,
          t.department ? " · " + t.department.replace(/_/g, " ") : "", " ", scopeChips(t.scope))),
      h("td", {},
        h("div", { class: "bar", title: "attainment; the tick marks what was expected by now" },
          h("div", { class: "fill " + health, style: `width:${(attainmentWidth * 100).toFixed(1)}%` }),
          expectedShare == null ? null : h("div", { class: "tick", style: `left:${(expectedShare * 100).toFixed(1)}%` })),
        h("div", { class: "progress-text" },
          h("span", { "data-field": "actual", "data-raw": p.actual }, formatValue(p.actual, metric.unit)),
          " of ", goal,
          h("span", { "data-field": "target", "data-raw": t.targetValue }, formatValue(t.targetValue, metric.unit)),
          h("span", { class: "sub" }, " · expected ",
            h("span", { "data-field": "expected", "data-raw": p.expectedToDate },
              formatValue(p.expectedToDate, metric.unit)),
            p.expectedMethod ? ` (${p.expectedMethod})` : ""))),
      h("td", { class: "num", "data-field": "attainment", "data-raw": p.attainment }, percent(p.attainment)),
      h("td", { class: "num", "data-field": "pace", "data-raw": p.pace }, percent(p.pace)),
      h("td", { class: "num" },
        h("div", { "data-field": "forecast", "data-raw": p.forecast }, formatValue(p.forecast, metric.unit)),
        p.forecastLow != null
          ? h("div", { class: "sub" }, formatValue(p.forecastLow, metric.unit), " – ",
            formatValue(p.forecastHigh, metric.unit))
          : null),
      h("td", {},
        h("span", { class: "health " + health, "data-field": "health" }, HEALTH_LABEL[health] || health),
        p.stale ? h("span", { class: "stale", "data-field": "stale", title: lastEventTitle(p) }, "⚠ stale") : null),
      h("td", {}, chart(t, metric)));
  }

  function lastEventTitle(p) {
    return p.lastEventAt ? "No event since " + p.lastEventAt : "No event yet";
  }

  // Actual vs expected to date at each month end of the target's period (and the as-of day).
  function chart(t, metric) {
    const width = 220, height = 56, pad = 4;
    const points = [];
    state.points.forEach((d, i) => {
      const p = t["p" + i];
      if (d >= t.startsOn && d <= t.endsOn && p) points.push({ day: d, actual: p.actual, expected: p.expectedToDate });
    });
    const p = t.progress || {};
    const asOf = $("as-of").value;
    if (asOf >= t.startsOn) {
      const day = asOf < t.endsOn ? asOf : t.endsOn;
      if (!points.length || points[points.length - 1].day < day) {
        points.push({ day, actual: p.actual, expected: p.expectedToDate });
      }
    }
    const start = dayNumber(t.startsOn) - (t.additive ? 1 : 0);
    const span = Math.max(1, dayNumber(t.endsOn) - start);
    const series = t.additive ? [{ day: null, actual: "0", expected: "0" }, ...points] : points;
    const values = [t.targetValue, p.forecast];
    for (const q of series) values.push(q.actual, q.expected);
    const numbers = values.filter((v) => v !== null && v !== undefined).map(Number);
    let low = t.additive ? 0 : Math.min(...numbers);
    let high = Math.max(...numbers, 0);
    if (!t.additive) { const margin = (high - low) * 0.15 || Math.abs(high) * 0.05 || 1; low -= margin; high += margin; }
    if (high === low) high = low + 1;
    const x = (q) => pad + ((q.day === null ? start : dayNumber(q.day)) - start) / span * (width - 2 * pad);
    const y = (v) => height - pad - (Number(v) - low) / (high - low) * (height - 2 * pad);
    const line = (key) => series.filter((q) => q[key] !== null && q[key] !== undefined)
      .map((q) => `${x(q).toFixed(1)},${y(q[key]).toFixed(1)}`).join(" ");
    const node = svg("svg", { class: "spark", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `${t.name}: actual against expected to date` });
    if (t.targetValue != null) {
      node.append(svg("line", { class: "goal", x1: pad, x2: width - pad, y1: y(t.targetValue), y2: y(t.targetValue) }));
    }
    node.append(svg("polyline", { class: "expected", points: line("expected") }));
    node.append(svg("polyline", { class: "actual", points: line("actual"), stroke: HEALTH_COLOUR[p.health] || "#2457c5" }));
    if (t.additive && p.forecast != null && asOf < t.endsOn) {
      node.append(svg("circle", { cx: width - pad, cy: y(p.forecast), r: 2.5, fill: "none",
        stroke: HEALTH_COLOUR[p.health] || "#2457c5" }));
    }
    return node;
  }

  // ---- reviews view -------------------------------------------------------------------------

  const REVIEWS = `query Reviews($id: ID!) {
    plan(id: $id) {
      id
      reviews {
        id quarter status version
        scorecard {
          financial { attainment targets } operational { attainment targets }
          user { attainment targets } overall { attainment targets }
        }
        snapshot {
          takenAt asOf
          items {
            targetId name metric targetValue actual attainment variance variancePct health direction attribution
            scope { category channel region }
          }
        }
        findings { id kind text department targetIds }
        actionItems { id title department assignee dueOn status taskId findingId }
      }
    }
  }`;

  async function loadReviews() {
    const body = await graphql(REVIEWS, { id: state.plan.id });
    showErrors(body.errors);
    const plan = body.data && body.data.plan;
    state.reviews = (plan && plan.reviews ? plan.reviews : []).sort((a, b) => a.quarter.localeCompare(b.quarter));
    const select = $("review");
    const current = select.value || state.pendingReview;
    state.pendingReview = "";
    select.replaceChildren(...state.reviews.map((r) => h("option", { value: r.quarter }, `${r.quarter} (${r.status})`)));
    if (!state.reviews.length) {
      $("review-body").replaceChildren(h("p", { class: "sub" }, "No retrospective for this plan yet."));
      document.body.dataset.ready = "reviews";
      return;
    }
    select.value = state.reviews.some((r) => r.quarter === current) ? current : state.reviews[0].quarter;
    renderReview();
    document.body.dataset.ready = "reviews";
  }

  function renderReview() {
    const review = state.reviews.find((r) => r.quarter === $("review").value);
    if (!review) return;
    writeHash();
    const card = review.scorecard || {};
    const snapshot = review.snapshot;
    const findings = review.findings || [];
    const findingText = Object.fromEntries(findings.map((f) => [f.id, f.text]));
    const names = Object.fromEntries((snapshot ? snapshot.items : []).map((i) => [i.targetId, i.name]));
    const reportBox = h("pre", { class: "report", hidden: true });
    $("review-body").replaceChildren(
      h("h2", {}, `Retrospective ${review.quarter} `, h("span", { class: "badge " + review.status }, review.status)),
      h("p", { class: "sub" }, snapshot ? `Snapshot as of ${snapshot.asOf}, taken ${snapshot.takenAt || ""}` : "No snapshot yet."),
      h("div", { class: "scorecard", "data-section": "scorecard" },
        ...["financial", "operational", "user", "overall"].map((k) => {
          const entry = card[k] || {};
          return h("div", { class: "score", "data-dimension": k },
            h("div", { class: "label" }, k),
            h("div", { class: "value", "data-field": "attainment", "data-raw": entry.attainment }, percent(entry.attainment)),
            h("div", { class: "sub" }, `${entry.targets || 0} targets`));
        })),
      h("h3", {}, "Target against actual"),
      snapshot ? snapshotTable(snapshot) : h("p", { class: "sub" }, "—"),
      h("h3", {}, "Findings"),
      h("ul", { class: "findings" }, ...findings.map((f) =>
        h("li", { "data-finding-id": f.id },
          h("span", { class: "kind" }, f.kind.toLowerCase()), f.text,
          f.department ? h("span", { class: "sub" }, " — " + f.department.replace(/_/g, " ")) : null,
          f.targetIds.length ? h("span", { class: "sub" }, " (" + f.targetIds.map((id) => names[id] || id).join(", ") + ")") : null))),
      h("h3", {}, "Action items"),
      h("table", { class: "board", "data-section": "action-items" },
        h("thead", {}, h("tr", {}, ...["Action", "Department", "Due", "Status", "Next-quarter task", "From finding"].map((c) => h("th", {}, c)))),
        h("tbody", {}, ...(review.actionItems || []).map((a) =>
          h("tr", { "data-action-item-id": a.id },
            h("td", { class: "name" }, a.title),
            h("td", {}, (a.department || "").replace(/_/g, " ")),
            h("td", {}, a.dueOn || "—"),
            h("td", {}, h("span", { class: "badge" }, a.status || "open")),
            h("td", { class: "sub" }, a.taskId || "—"),
            h("td", { class: "sub" }, a.findingId ? findingText[a.findingId] || "" : ""))))),
      h("p", {}, h("button", { type: "button", class: "quiet", onclick: () => showReport(review, reportBox) }, "Show the Markdown report")),
      reportBox,
    );
  }

  async function showReport(review, box) {
    if (!box.hidden) { box.hidden = true; return; }
    const body = await graphql("query Report($id: ID!) { review(id: $id) { report } }", { id: review.id });
    showErrors(body.errors);
    box.textContent = body.data && body.data.review ? body.data.review.report || "" : "";
    box.hidden = false;
  }

  function snapshotTable(snapshot) {
    return h("table", { class: "board", "data-section": "snapshot" },
      h("thead", {}, h("tr", {}, ...["Target", "Target value", "Actual", "Attainment", "Variance", "Variance %", "Health", "Why"]
        .map((c, i) => h("th", { class: i && i < 6 ? "num" : "" }, c)))),
      h("tbody", {}, ...snapshot.items.map((item) => {
        const unit = (state.metrics[item.metric] || {}).unit || "count";
        return h("tr", { "data-target-id": item.targetId },
          h("td", {}, h("div", { class: "name" }, item.name || item.metric), h("div", { class: "meta" }, scopeChips(item.scope))),
          h("td", { class: "num" }, formatValue(item.targetValue, unit)),
          h("td", { class: "num", "data-field": "actual", "data-raw": item.actual }, formatValue(item.actual, unit)),
          h("td", { class: "num", "data-field": "attainment", "data-raw": item.attainment }, percent(item.attainment)),
          h("td", { class: "num", "data-field": "variance", "data-raw": item.variance }, formatValue(item.variance, unit)),
          h("td", { class: "num" }, percent(item.variancePct)),
          h("td", {}, item.health ? h("span", { class: "health " + item.health }, HEALTH_LABEL[item.health] || item.health) : "—"),
          h("td", { class: "attribution" }, attribution(item.attribution, unit)));
      })));
  }

  function attribution(data, unit) {
    if (!data) return "—";
    const parts = [];
    const drivers = data.drivers;
    if (drivers) {
      parts.push(h("div", {}, h("b", {}, "drivers: "),
        ["traffic", "conversion", "basket"].map((k) => `${k} ${formatValue(drivers[k], unit)}`).join(", ")));
    }
    for (const [dimension, list] of Object.entries(data.by_dimension || {})) {
      if (!Array.isArray(list) || !list.length) continue;
      const top = [...list]
        .filter((part) => part.variance != null)
        .sort((a, b) => Math.abs(Number(b.variance)) - Math.abs(Number(a.variance)))
        .slice(0, 3)
        .map((part) => `${part.value == null ? "rest" : part.value} ${formatValue(part.variance, unit)}` +
          (part.share != null ? ` (${percent(part.share, 0)})` : ""));
      parts.push(h("div", {}, h("b", {}, dimension + ": "), top.join(", ")));
    }
    return parts.length ? parts : "—";
  }

  // ---- wiring -------------------------------------------------------------------------------

  function showView(view) {
    state.view = view;
    for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.view === view);
    $("targets-view").hidden = view !== "targets";
    $("reviews-view").hidden = view !== "reviews";
    for (const id of ["as-of", "quarter", "department"]) $(id).closest("label").hidden = view !== "targets";
  }

  function wire() {
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token-input").value.trim();
      if (!token) { $("login-error").textContent = "Paste a token first."; return; }
      signIn(token);
    });
    $("dev-token").addEventListener("click", () => useDevelopmentToken());
    $("sign-out").addEventListener("click", () => signOut(""));
    $("plan").addEventListener("change", () => {
      const plan = state.plans.find((p) => p.code === $("plan").value);
      if (plan) choosePlan(plan, { quarter: $("quarter").value, department: $("department").value });
    });
    $("as-of").addEventListener("change", () => refresh());
    $("quarter").addEventListener("change", () => refresh());
    $("department").addEventListener("change", () => { writeHash(); renderTargets(); });
    $("review").addEventListener("change", () => renderReview());
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => { showView(tab.dataset.view); refresh(); });
    }
  }

  wire();
  if (sessionStorage.getItem(TOKEN_KEY)) {
    start().catch((error) => {
      if (error instanceof Unauthorized) signOut("Your token was refused: " + error.message);
      else $("login-error").textContent = String(error.message || error);
    });
  } else {
    showLogin("");
  }

  // Exposed for tests and the console: the same formatting the page shows.
  window.pacerFormat = { formatNumber, formatValue, percent };
})();
