/* Agent-assist dashboard: live conversation list (SSE from /v1/agent/stream), transcript with
 * the bot's evidence per turn, a drafted reply the agent edits and sends, takeover/release and
 * canned responses. All shopper and bot text is set with textContent, never as HTML. */
(() => {
  "use strict";
  const KEY = "kefu:agent-key";
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  };
  const STATUS = { bot: "Bot", pending_human: "Waiting for agent", human: "Agent" };
  const SHORT = { bot: "Bot", pending_human: "Waiting", human: "Agent" };
  const REASON = {
    requested: "asked for a person", asked_for_human: "asked for a person", out_of_scope_twice: "out of scope twice",
    out_of_scope: "out of scope twice", angry_shopper: "shopper upset", angry: "shopper upset",
  };
  // Handoff reasons from the gateway; takeover/release carry the agent ("takeover:alice").
  function reasonText(r) {
    if (!r) return "";
    const [kind, who] = String(r).split(":");
    if (kind === "takeover") return "taken over" + (who ? " by " + who : "");
    if (kind === "release") return "handed back" + (who ? " by " + who : "");
    return REASON[kind] || String(r).replace(/_/g, " ");
  }
  const state = {
    key: sessionStorage.getItem(KEY) || "", filter: "", list: [], current: null, detail: null,
    selected: null, canned: [], seen: {}, es: null, esTries: 0, esTimer: 0,
  };

  // ---- API
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  async function api(path, opts = {}) {
    const headers = { Accept: "application/json", Authorization: "Bearer " + state.key };
    if (opts.body) headers["Content-Type"] = "application/json";
    const r = await fetch(path, { method: opts.method || "GET", headers, body: opts.body ? JSON.stringify(opts.body) : undefined });
    let j = null;
    try { j = await r.json(); } catch { /* empty body */ }
    if (!r.ok) {
      if (r.status === 401 || r.status === 403) signOut("Your agent key was rejected. Sign in again.");
      throw new ApiError(r.status, (j && j.error && j.error.message) || `HTTP ${r.status}`);
    }
    return j || {};
  }
  const enc = encodeURIComponent;

  // ---- helpers
  function when(v) {
    if (v == null || v === "") return null;
    const d = typeof v === "number" ? new Date(v < 1e12 ? v * 1000 : v) : new Date(v);
    return isNaN(d) ? null : d;
  }
  function ago(v) {
    const d = when(v);
    if (!d) return "";
    const s = Math.max(0, (Date.now() - d) / 1000);
    if (s < 45) return "now";
    if (s < 3600) return Math.round(s / 60) + "m";
    if (s < 86400) return Math.round(s / 3600) + "h";
    return d.toLocaleDateString();
  }
  const clock = (v) => { const d = when(v); return d ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : ""; };
  const shortId = (id) => (String(id).length > 14 ? "#" + String(id).slice(-8) : "#" + id);
  const idOf = (c) => c.id || c.conversation_id;
  // A shopper message and the bot reply to it share one message_id (one turn).
  const keyOf = (m, i) => (m.message_id ? m.role + ":" + m.message_id : "i" + i);
  const pct = (x) => (typeof x === "number" ? Math.round(x * (x <= 1 ? 100 : 1)) + "%" : "—");
  function money(p) {
    if (p.price == null) return "";
    try { return new Intl.NumberFormat("en-US", { style: "currency", currency: p.currency || "USD" }).format(p.price); } catch { return String(p.price); }
  }

  // ---- login
  async function signIn(key) {
    state.key = key.trim();
    try {
      await api("/v1/agent/conversations");
    } catch (e) {
      state.key = "";
      return e.status === 401 || e.status === 403 ? "That key was not accepted." : "The gateway did not answer: " + e.message;
    }
    sessionStorage.setItem(KEY, state.key);
    $("login").hidden = true;
    $("app").hidden = false;
    loadCanned();
    await refreshList();
    connect();
    return null;
  }
  function signOut(msg) {
    sessionStorage.removeItem(KEY);
    state.key = "";
    if (state.es) { state.es.close(); state.es = null; }
    clearTimeout(state.esTimer);
    $("app").hidden = true;
    $("login").hidden = false;
    $("login-error").hidden = !msg;
    $("login-error").textContent = msg || "";
    $("key").value = "";
    $("key").focus();
  }
  $("login-form").onsubmit = async (e) => {
    e.preventDefault();
    const btn = e.target.querySelector("button");
    btn.disabled = true;
    const err = await signIn($("key").value);
    btn.disabled = false;
    $("login-error").hidden = !err;
    $("login-error").textContent = err || "";
  };
  $("logout").onclick = () => signOut("");

  // ---- conversation list
  const ORDER = { pending_human: 0, human: 1, bot: 2 };
  async function refreshList() {
    const j = await api("/v1/agent/conversations" + (state.filter ? "?status=" + enc(state.filter) : ""));
    let list = Array.isArray(j) ? j : j.conversations || [];
    if (state.filter) list = list.filter((c) => c.status === state.filter);
    list.sort((a, b) => (ORDER[a.status] ?? 3) - (ORDER[b.status] ?? 3) ||
      (when(b.updated_at || b.created_at) || 0) - (when(a.updated_at || a.created_at) || 0));
    state.list = list;
    opsStats();
    if (!state.filter) counts(list);
    else api("/v1/agent/conversations").then((all) => counts(Array.isArray(all) ? all : all.conversations || [])).catch(() => 0);
    renderList();
  }
  // Operator counters; optional (older gateways have no /v1/agent/stats), refreshed at most every 10 s.
  let statsAt = 0;
  async function opsStats() {
    if (Date.now() - statsAt < 10000) return;
    statsAt = Date.now();
    try {
      const j = await api("/v1/agent/stats");
      const parts = [];
      if (j.cache_lookups) parts.push(`cache hits ${Math.round((j.cache_hit_rate || 0) * 100)}%`);
      if (j.grounding_checked) parts.push(`${j.grounding_rejected || 0}/${j.grounding_checked} drafts rejected by grounding`);
      const open = Object.entries(j.breakers || {}).filter(([, b]) => b && b.state && b.state !== "closed").map(([k]) => k);
      if (open.length) parts.push("circuit open: " + open.join(", "));
      $("stat-ops").textContent = parts.join(" · ");
      $("stat-ops").hidden = !parts.length;
    } catch { /* optional */ }
  }
  function counts(all) {
    const n = { bot: 0, pending_human: 0, human: 0 };
    for (const c of all) if (c.status in n) n[c.status]++;
    $("stat-queue").textContent = n.pending_human;
    $("stat-human").textContent = n.human;
    $("stat-bot").textContent = n.bot;
    $("tab-queue").textContent = n.pending_human || "";
    document.querySelector(".queue-stat").classList.toggle("hot", n.pending_human > 0);
    document.title = (n.pending_human ? `(${n.pending_human}) ` : "") + "kefu · Agent console";
  }
  function renderList() {
    const ul = $("conv-list");
    ul.textContent = "";
    for (const c of state.list) {
      const id = idOf(c);
      const stamp = String(c.updated_at || c.message_count || "");
      if (state.seen[id] === undefined) state.seen[id] = stamp;
      if (id === state.current) state.seen[id] = stamp;
      const li = el("li");
      const b = el("button", "conv");
      b.type = "button";
      b.dataset.id = id;
      if (c.status === "pending_human") b.classList.add("pending");
      if (state.seen[id] !== stamp) b.classList.add("unread");
      if (id === state.current) b.setAttribute("aria-current", "true");
      const top = el("div", "conv-top");
      top.append(el("span", "conv-id", shortId(id)), el("span", "badge " + c.status, SHORT[c.status] || c.status));
      if (c.lang) top.append(el("span", "lang", c.lang));
      top.append(el("span", "conv-time", ago(c.updated_at || c.created_at)));
      const last = c.last_message;
      const prefix = last ? (last.role === "user" ? "" : last.role === "agent" ? "You: " : "Bot: ") : "";
      const preview = el("div", "conv-preview", last ? prefix + last.text : c.handoff_reason ? reasonText(c.handoff_reason) : "New conversation");
      b.append(top, preview);
      b.onclick = () => open(id);
      li.append(b);
      ul.append(li);
    }
    $("list-empty").hidden = state.list.length > 0;
  }
  for (const tab of document.querySelectorAll(".tabs [role=tab]")) {
    tab.onclick = () => {
      state.filter = tab.dataset.status;
      for (const t of document.querySelectorAll(".tabs [role=tab]")) t.setAttribute("aria-selected", String(t === tab));
      refreshList().catch(() => 0);
    };
  }

  // ---- conversation view
  async function open(id) {
    if (state.current !== id) {
      state.current = id;
      state.selected = null;
      $("reply").value = "";
      $("reply").classList.remove("drafted");
      $("draft-note").hidden = true;
      $("composer-error").hidden = true;
    }
    renderList();
    await refreshDetail(true);
    if (state.detail && state.detail.status === "pending_human" && !$("reply").value) suggest();
  }
  async function refreshDetail(scrollDown) {
    const id = state.current;
    if (!id) return;
    let d;
    try { d = await api("/v1/agent/conversations/" + enc(id)); } catch (e) {
      if (e.status === 404) { state.current = null; $("chat").hidden = true; $("chat-empty").hidden = false; }
      return;
    }
    if (id !== state.current) return;
    state.detail = d;
    renderDetail(scrollDown);
  }
  function renderDetail(scrollDown) {
    const d = state.detail;
    $("chat-empty").hidden = true;
    $("chat").hidden = false;
    $("chat-title").textContent = shortId(idOf(d) || state.current);
    $("chat-title").title = idOf(d) || state.current;
    const st = $("chat-status");
    st.className = "badge " + d.status;
    st.textContent = STATUS[d.status] || d.status;
    $("chat-reason").hidden = !d.handoff_reason;
    $("chat-reason").textContent = d.handoff_reason ? "· " + reasonText(d.handoff_reason) : "";
    $("chat-lang").textContent = d.lang || "";
    $("chat-lang").hidden = !d.lang;
    $("chat-since").textContent = d.created_at ? "started " + ago(d.created_at) + (ago(d.created_at) === "now" ? "" : " ago") : "";
    $("takeover").hidden = d.status === "human";
    $("release").hidden = d.status !== "human";

    const box = $("transcript");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    const msgs = d.messages || [];
    // Append only what is new, so the live region announces new messages, not the whole log.
    const sig = msgs.map((m, i) => keyOf(m, i) + "|" + String(m.text || "").length);
    const old = box.kefuSig || [];
    const extend = box.kefuCid === state.current && old.length <= sig.length && old.every((x, i) => x === sig[i]);
    if (!extend) box.textContent = "";
    msgs.slice(extend ? old.length : 0).forEach((m, j) => {
      const node = msgNode(m, (extend ? old.length : 0) + j);
      if (node) box.append(node);
    });
    box.kefuSig = sig;
    box.kefuCid = state.current;
    let lastBot = null;
    msgs.forEach((m, i) => { if (!["user", "agent", "system"].includes(m.role) && m.text) lastBot = keyOf(m, i); });
    if (!state.selected || !msgs.some((m, i) => keyOf(m, i) === state.selected)) state.selected = lastBot;
    for (const w of box.querySelectorAll(".msg.bot")) w.classList.toggle("selected", w.dataset.key === state.selected);
    if (scrollDown || atBottom) box.scrollTop = box.scrollHeight;
    renderEvidence();
    renderSlots(d.slots || {});
    renderCanned();
  }
  function msgNode(m, i) {
    const role = m.role === "user" || m.role === "agent" ? m.role : m.role === "system" ? "system" : "bot";
    if (!m.text && role !== "user") return null; // a turn the bot stayed silent on (agent in charge)
    if (role === "system") return el("div", "sysmsg", m.text);
    const key = keyOf(m, i);
    const w = el("div", "msg " + role);
    const who = el("div", "who");
    who.append(el("span", "", role === "user" ? "Shopper" : role === "agent" ? (m.agent_name || m.agent || "Agent") : "Bot"), el("span", "", clock(m.created_at)));
    w.append(who, el("div", "text", m.text));
    if (role === "bot") {
      const ev = evidenceOf(m);
      const tl = el("div", "tagline");
      if (ev.intent) tl.append(el("span", "pill", ev.intent + (ev.confidence != null ? " · " + pct(ev.confidence) : "")));
      if (ev.stage) tl.append(el("span", "pill", ev.stage));
      if (ev.products.length) tl.append(el("span", "pill", ev.products.length + " products"));
      if (ev.degraded.length) tl.append(el("span", "pill warn", "degraded: " + ev.degraded.join(", ")));
      if (tl.childNodes.length) w.append(tl);
      w.tabIndex = 0;
      w.setAttribute("role", "button");
      w.title = "Show the evidence for this reply";
      w.onclick = () => select(key);
      w.onkeydown = (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(key); } };
    }
    w.dataset.key = key;
    return w;
  }
  function select(key) {
    state.selected = key;
    for (const w of $("transcript").querySelectorAll(".msg.bot")) w.classList.toggle("selected", w.dataset.key === key);
    renderEvidence();
  }

  // ---- evidence (inline on the message or nested in `evidence`; intent as a name or an object)
  function evidenceOf(m) {
    const e = (m.evidence && typeof m.evidence === "object") ? m.evidence : {};
    const io = [m.intent, e.intent].find((x) => x && typeof x === "object") || {};
    const intent = [m.intent, e.intent, io.name, io.label].find((x) => typeof x === "string" && x);
    const confidence = m.confidence ?? e.confidence ?? io.confidence;
    const stage = m.stage ?? e.stage ?? io.stage;
    const objs = (x) => Array.isArray(x) && x.length && typeof x[0] === "object";
    const products = objs(e.products) ? e.products : objs(m.products) ? m.products : (m.products || e.products || []).map((id) => ({ id }));
    const used = new Set(["intent", "confidence", "stage", "products", "slots", "degraded", "latency_ms", "candidates"]);
    const extra = Object.entries(e).filter(([k, v]) => !used.has(k) && v != null && v !== "" && !(Array.isArray(v) && !v.length));
    return {
      intent, confidence, stage, products, extra,
      slots: m.slots && Object.keys(m.slots).length ? m.slots : e.slots || {},
      degraded: m.degraded || e.degraded || [],
      latency: m.latency_ms ?? e.latency_ms,
      candidates: e.candidates || io.candidates || [],
    };
  }
  function kv(obj) {
    const dl = el("dl", "kv");
    for (const [k, v] of Object.entries(obj)) {
      if (v == null || v === "") continue;
      dl.append(el("dt", "", k), el("dd", "", typeof v === "object" ? JSON.stringify(v) : v));
    }
    if (!dl.childNodes.length) dl.append(el("dd", "muted", "none"));
    return dl;
  }
  function block(label, ...nodes) {
    const b = el("div", "ev-block");
    b.append(el("div", "ev-label", label), ...nodes);
    return b;
  }
  function meter(x, low) {
    const m = el("div", "meter" + (low ? " low" : ""));
    const i = el("i");
    i.style.width = Math.max(0, Math.min(100, (x <= 1 ? x * 100 : x))) + "%";
    m.append(i);
    return m;
  }
  function renderEvidence() {
    const box = $("evidence");
    box.textContent = "";
    const msgs = (state.detail && state.detail.messages) || [];
    const m = msgs.find((x, i) => keyOf(x, i) === state.selected);
    if (!m) { box.append(el("p", "muted", "No bot replies in this conversation yet.")); return; }
    const ev = evidenceOf(m);
    const head = el("div");
    head.append(el("div", "intent-name", ev.intent || "unknown"));
    if (typeof ev.confidence === "number") head.append(meter(ev.confidence, ev.confidence < 0.6));
    const row = el("div", "meter-row");
    row.append(el("span", "", "confidence " + pct(ev.confidence)), el("span", "", "stage: " + (ev.stage || "—")));
    head.append(row);
    box.append(block("Intent", head));
    if (ev.candidates.length) {
      box.append(block("Other candidates", kv(Object.fromEntries(ev.candidates.slice(0, 4).map((c) => [c.label || c.name, pct(c.score)])))));
    }
    box.append(block("Slots this turn", kv(ev.slots)));
    const prods = el("div");
    if (!ev.products.length) prods.append(el("div", "muted", "none retrieved"));
    // Scores differ in scale by scorer (cosine, RRF…): bars are relative to the best hit.
    const top = Math.max(1e-9, ...ev.products.map((p) => (typeof p.score === "number" ? p.score : 0)));
    for (const p of ev.products.slice(0, 8)) {
      const c = el("div", "prod");
      const top = el("div", "prod-top");
      top.append(el("span", "prod-title", p.title || p.id), el("span", "prod-price", money(p)));
      c.append(top, el("div", "prod-id", [p.id, p.brand, p.stock != null ? "stock " + p.stock : ""].filter((x) => x !== "" && x != null).join(" · ")));
      if (typeof p.score === "number") {
        const s = el("div", "score");
        s.append(el("span", "", "score"), meter(Math.max(0, Math.min(1, p.score / top))), el("span", "", p.score.toFixed(3)));
        c.append(s);
      }
      if (p.scorers && Object.keys(p.scorers).length) {
        c.append(el("div", "prod-id", Object.entries(p.scorers).map(([k, v]) => `${k} ${typeof v === "number" ? v.toFixed(3) : v}`).join(" · ")));
      }
      prods.append(c);
    }
    box.append(block("Retrieved products", prods));
    const deg = el("div", "degraded");
    if (ev.degraded.length) for (const s of ev.degraded) deg.append(el("span", "pill", s));
    else deg.append(el("span", "ok-note", "all services answered"));
    box.append(block("Degraded services", deg));
    const extra = Object.fromEntries(ev.extra);
    if (extra.source || extra.grounding) {
      const g = el("div");
      const src = { llm: "generated by the model", template: "grounded template", cache: "response cache" }[extra.source] || extra.source || "";
      if (src) g.append(el("div", "", "Reply: " + src));
      const v = extra.grounding;
      if (v && typeof v === "object") {
        g.append(el("div", v.ok ? "ok-note" : "warn-note", v.ok ? "grounding check passed" : "generated reply rejected by the grounding check"));
        if (!v.ok && v.reasons) g.append(el("div", "muted small", [].concat(v.reasons).join("; ")));
        if (!v.ok && v.rejected) g.append(el("blockquote", "rejected", v.rejected));
      }
      box.append(block("Grounding", g));
    }
    // Whether the shopper proved the order is theirs (nothing about it is said before).
    if (extra.order_found || extra.signed_in) {
      const v = el("div");
      if (extra.order_found) {
        v.append(el("div", extra.verified ? "ok-note" : "warn-note",
          extra.verified ? `shopper verified for order ${extra.order_found}` :
            `shopper NOT verified for order ${extra.order_found}: its facts are withheld` +
            (extra.locked ? " (locked after too many wrong factors)" : extra.verify_failed ? " (wrong factor given)" : "")));
      }
      if (extra.signed_in) v.append(el("div", "muted small", "signed in by the shop"));
      box.append(block("Verification", v));
    }
    if (extra.offer || extra.action) {
      box.append(block(extra.action ? "Order action done" : "Order action offered (waiting for yes)",
        kv(extra.action || extra.offer)));
    }
    for (const k of ["order_found", "verified", "signed_in", "locked", "verify_failed", "offer", "action"]) delete extra[k];
    // The follow-up rewrite ("how much is it?" → "how much is the X?"), when there was one.
    const asked = msgs.slice(0, msgs.indexOf(m)).reverse().find((x) => x.role === "user");
    if (typeof extra.standalone === "string" && extra.standalone && (!asked || asked.text.trim() !== extra.standalone.trim())) {
      box.append(block("Understood as", el("div", "", extra.standalone)));
    }
    delete extra.source; delete extra.grounding; delete extra.standalone;
    const more = {};
    if (ev.latency != null) more.latency = Math.round(ev.latency * 10) / 10 + " ms";
    Object.assign(more, extra);
    if (Object.keys(more).length) box.append(block("Details", kv(more)));
  }
  function renderSlots(slots) {
    const box = $("conv-slots");
    box.replaceWith(Object.assign(kv(slots), { id: "conv-slots" }));
  }

  // ---- actions
  async function setStatus(action) {
    const id = state.current;
    const btn = $(action === "takeover" ? "takeover" : "release");
    btn.disabled = true;
    try {
      const j = await api(`/v1/agent/conversations/${enc(id)}/${action}`, { method: "POST", body: {} });
      if (state.detail && id === state.current) state.detail.status = j.status || (action === "takeover" ? "human" : "bot");
      renderDetail(false);
      refreshList().catch(() => 0);
    } catch (e) {
      showError(e.message);
    } finally {
      btn.disabled = false;
    }
  }
  $("takeover").onclick = () => setStatus("takeover");
  $("release").onclick = () => setStatus("release");

  async function suggest() {
    const id = state.current;
    const btn = $("suggest");
    btn.disabled = true;
    btn.querySelector("span").textContent = "Drafting…";
    try {
      const j = await api(`/v1/agent/conversations/${enc(id)}/suggestion`);
      if (id !== state.current || !j.text) return;
      $("reply").value = j.text;
      $("reply").classList.add("drafted");
      $("draft-note").hidden = false;
      $("draft-note").textContent = "Drafted by the assistant" + (j.source ? ` (${j.source})` : "") + " — edit before sending";
    } catch (e) {
      showError("No suggestion: " + e.message);
    } finally {
      btn.disabled = false;
      btn.querySelector("span").textContent = "Suggest reply";
    }
  }
  $("suggest").onclick = suggest;

  async function loadCanned() {
    try {
      const j = await api("/v1/agent/canned");
      state.canned = (Array.isArray(j) ? j : j.responses || []).map((r, i) => (typeof r === "string" ? { id: "r" + i, title: r, text: r } : r));
    } catch { state.canned = []; }
    renderCanned();
  }
  function renderCanned() {
    const sel = $("canned");
    const lang = state.detail && state.detail.lang;
    while (sel.options.length > 1) sel.remove(1);
    state.canned.forEach((r, i) => {
      if (lang && r.lang && r.lang !== lang) return;
      const o = el("option", "", r.title || r.text);
      o.value = String(i);
      sel.append(o);
    });
  }
  $("canned").onchange = (e) => {
    const r = state.canned[Number(e.target.value)];
    e.target.value = "";
    if (!r) return;
    const ta = $("reply");
    ta.value = ta.value ? ta.value.replace(/\s*$/, " ") + r.text : r.text;
    ta.focus();
  };

  function showError(msg) {
    $("composer-error").hidden = !msg;
    $("composer-error").textContent = msg || "";
  }
  $("composer").onsubmit = async (e) => {
    e.preventDefault();
    const text = $("reply").value.trim();
    const id = state.current;
    if (!text || !id) return;
    showError("");
    $("send").disabled = true;
    try {
      // An agent replying means the bot must stop talking in this conversation.
      if (state.detail && state.detail.status !== "human") await api(`/v1/agent/conversations/${enc(id)}/takeover`, { method: "POST", body: {} });
      await api(`/v1/agent/conversations/${enc(id)}/messages`, { method: "POST", body: { text } });
      $("reply").value = "";
      $("reply").classList.remove("drafted");
      $("draft-note").hidden = true;
      await refreshDetail(true);
      refreshList().catch(() => 0);
    } catch (err) {
      showError("Not sent: " + err.message);
    } finally {
      $("send").disabled = false;
      $("reply").focus();
    }
  };
  $("reply").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("reply").addEventListener("input", () => { if (!$("reply").value) { $("reply").classList.remove("drafted"); $("draft-note").hidden = true; } });

  // ---- live updates: one EventSource (key as ?key= since EventSource cannot send headers);
  // any event refreshes the list and, when it concerns the open conversation, the transcript.
  let listTimer = 0, detailTimer = 0;
  function onEvent(e) {
    let d = {};
    try { d = JSON.parse(e.data); } catch { /* ping or plain text */ }
    const cid = d.conversation_id || d.id || (d.conversation && idOf(d.conversation));
    clearTimeout(listTimer);
    listTimer = setTimeout(() => refreshList().then(() => state.detail && renderCanned()).catch(() => 0), 150);
    if (state.current && (!cid || cid === state.current)) {
      clearTimeout(detailTimer);
      detailTimer = setTimeout(() => refreshDetail(false), 100);
    }
  }
  function live(on, text) {
    $("live").className = "live " + (on ? "on" : "off");
    $("live").querySelector("span").textContent = text;
  }
  function connect() {
    if (!state.key || state.es) return;
    const es = new EventSource("/v1/agent/stream?key=" + enc(state.key));
    state.es = es;
    es.onopen = () => {
      if (state.esTries) { refreshList().catch(() => 0); refreshDetail(false); }
      state.esTries = 0;
      live(true, "Live");
    };
    for (const name of ["message", "status", "conversation", "handoff", "update"]) es.addEventListener(name, onEvent);
    es.onerror = () => {
      es.close();
      if (state.es === es) state.es = null;
      state.esTries++;
      live(false, "Reconnecting…");
      const wait = Math.min(30000, 1000 * 2 ** Math.min(state.esTries - 1, 5));
      state.esTimer = setTimeout(() => {
        // A rejected key ends the session instead of retrying forever.
        api("/v1/agent/conversations").then(() => connect(), () => connect());
      }, wait);
    };
  }
  // Relative times in the list stay fresh without a refetch.
  setInterval(() => { if (!$("app").hidden) renderList(); }, 30000);

  // ---- boot
  if (state.key) {
    $("key").value = "";
    signIn(state.key).then((err) => { if (err) signOut(err); });
  } else {
    $("login").hidden = false;
    $("key").focus();
  }
})();
