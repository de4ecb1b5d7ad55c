/* kefu chat widget. Embed with one tag, no build step:
 *   <script src="https://YOUR-GATEWAY/widget.js" data-lang="en|zh" async></script>
 * A shop that signs its shoppers in adds data-identity-email and data-identity-signature (the hex
 * HMAC-SHA256 of the email with KEFU_IDENTITY_SECRET, computed on the shop's server).
 * Talks to the gateway it was loaded from. Styles live in a Shadow DOM so the shop's CSS and
 * ours never collide. Every piece of shopper, bot or agent text goes through textContent. */
(() => {
  "use strict";
  if (window.kefu && window.kefu.loaded) return;
  const me = document.currentScript ||
    [...document.querySelectorAll("script[src]")].filter((s) => /widget\.js(\?|$)/.test(s.src)).pop();
  const BASE = new URL(me ? me.src : "/", location.href).origin;
  const attr = (n) => (me && me.getAttribute("data-" + n)) || "";
  const LANG = /^zh/i.test(attr("lang") || document.documentElement.lang || navigator.language || "") ? "zh" : "en";
  // a signed-in shopper's conversation is theirs alone: another shopper on this browser starts anew
  const KEY = "kefu:conv:" + BASE + (attr("identity-email") ? ":" + attr("identity-email").toLowerCase() : ""), OUTBOX = "kefu:outbox:" + BASE, OPEN = "kefu:open";

  const T = {
    en: {
      title: "Customer service", sub: "Typically replies in seconds", open: "Open chat", close: "Close chat",
      ph: "Type your message…", send: "Send message", human: "Talk to a human", log: "Conversation",
      welcome: "Hi! I can track your order, explain returns and shipping, and help you find products.",
      chips: ["Track my order", "Return policy", "Shipping times", "Talk to a human"],
      chipsLabel: "Suggested replies", typing: "Assistant is typing", you: "You", bot: "Assistant",
      agent: "Support agent", retry: "Retry", failed: "Not sent", sending: "Sending…",
      pending: "Waiting for a member of our team — they will reply right here.",
      withHuman: "You're chatting with a member of our team.", back: "You're back with the assistant.",
      offline: "Connection lost — reconnecting…", asked: "We've asked a member of our team to join.",
      handoffText: "I'd like to talk to a human", err: "Sorry, something went wrong. Please try again.",
      products: "Suggested products", stockOut: "Out of stock", stockLow: "Only {n} left", by: "Powered by kefu",
    },
    zh: {
      title: "在线客服", sub: "通常几秒内回复", open: "打开客服对话", close: "关闭对话",
      ph: "请输入消息…", send: "发送消息", human: "转人工客服", log: "对话记录",
      welcome: "您好！我可以帮您查询订单、解答退换货和配送问题，也可以帮您挑选商品。",
      chips: ["查询我的订单", "退货政策", "配送时间", "转人工客服"],
      chipsLabel: "快捷回复", typing: "客服正在输入", you: "您", bot: "智能客服",
      agent: "人工客服", retry: "重试", failed: "发送失败", sending: "发送中…",
      pending: "正在为您转接人工客服，请稍候，客服会在这里回复您。",
      withHuman: "人工客服正在为您服务。", back: "已切换回智能客服。",
      offline: "网络连接中断，正在重连…", asked: "已为您呼叫人工客服。",
      handoffText: "我要转人工客服", err: "抱歉，出了点问题，请重试。",
      products: "为您推荐", stockOut: "缺货", stockLow: "仅剩 {n} 件", by: "由 kefu 提供支持",
    },
  }[LANG];

  const CSS = `
:host{all:initial}
*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"PingFang SC","Microsoft YaHei","WenQuanYi Zen Hei",sans-serif}
.launch{position:fixed;right:24px;bottom:24px;width:60px;height:60px;border-radius:50%;border:0;background:var(--c);color:#fff;cursor:pointer;box-shadow:0 8px 24px rgba(20,20,60,.28);display:grid;place-items:center;z-index:2147483000;transition:transform .15s}
.launch:hover{transform:scale(1.06)}
.launch:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;background:#ef4444;color:#fff;font:600 12px/20px system-ui;padding:0 6px}
.panel{position:fixed;right:24px;bottom:96px;width:380px;height:min(620px,calc(100vh - 120px));background:#fff;border-radius:16px;box-shadow:0 16px 48px rgba(20,20,60,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483001;color:#1f2937;font-size:14px;line-height:1.45}
.panel[hidden],[hidden]{display:none!important}
header{background:var(--c);color:#fff;padding:14px 14px 14px 16px;display:flex;align-items:center;gap:10px}
.av{width:36px;height:36px;border-radius:50%;background:rgba(255,255,255,.2);display:grid;place-items:center;flex:none}
.hd{flex:1;min-width:0}
h2{margin:0;font-size:16px;font-weight:600}
.sub{margin:2px 0 0;font-size:12px;opacity:.85;display:flex;align-items:center;gap:6px}
.dot{width:8px;height:8px;border-radius:50%;background:#4ade80}
.ib{background:transparent;border:0;color:#fff;width:34px;height:34px;border-radius:8px;cursor:pointer;display:grid;place-items:center}
.ib:hover{background:rgba(255,255,255,.16)}
.note{padding:8px 14px;font-size:12.5px;background:#fef3c7;color:#78350f;border-bottom:1px solid #fde68a}
.note.off{background:#fee2e2;color:#7f1d1d}
.log{flex:1;overflow-y:auto;padding:16px 14px;background:#f7f7fb;display:flex;flex-direction:column;gap:10px}
.m{display:flex;flex-direction:column;max-width:85%}
.m.user{align-self:flex-end;align-items:flex-end}
.m.bot,.m.agent{align-self:flex-start}
.who{font-size:11px;color:#6b7280;margin:0 4px 3px}
.b{padding:9px 13px;border-radius:16px;white-space:pre-wrap;word-wrap:break-word;overflow-wrap:anywhere}
.user .b{background:var(--c);color:#fff;border-bottom-right-radius:4px}
.bot .b{background:#fff;border:1px solid #e5e7eb;border-bottom-left-radius:4px}
.agent .b{background:#ecfdf5;border:1px solid #a7f3d0;border-bottom-left-radius:4px}
.m.failed .b{opacity:.6}
.m.wide{max-width:100%;align-self:stretch}
.m.wide>.b{align-self:flex-start;max-width:85%}
.st{font-size:11px;color:#9ca3af;margin:3px 4px 0;display:flex;gap:6px;align-items:center}
.failed .st{color:#dc2626}
.rt{border:0;background:none;color:#dc2626;text-decoration:underline;cursor:pointer;font-size:11px;padding:0}
.sys{align-self:center;font-size:12px;color:#6b7280;background:#eef0f5;padding:4px 10px;border-radius:10px;text-align:center}
.typing{display:inline-flex;gap:4px;padding:12px 14px}
.typing i{width:7px;height:7px;border-radius:50%;background:#9ca3af;animation:k 1.2s infinite}
.typing i:nth-child(2){animation-delay:.15s}.typing i:nth-child(3){animation-delay:.3s}
@keyframes k{0%,60%,100%{transform:none;opacity:.5}30%{transform:translateY(-4px);opacity:1}}
.cards{display:flex;gap:8px;overflow-x:auto;padding:8px 2px 4px;max-width:100%}
.card{flex:none;width:150px;background:#fff;border:1px solid #e5e7eb;border-radius:12px;overflow:hidden;text-decoration:none;color:inherit;display:flex;flex-direction:column;transition:box-shadow .15s}
.card:hover{box-shadow:0 4px 14px rgba(0,0,0,.1)}
.ph{height:90px;display:grid;place-items:center;color:#fff;font:700 26px system-ui;letter-spacing:1px;background:linear-gradient(135deg,hsl(var(--h),65%,62%),hsl(calc(var(--h) + 40),70%,48%));position:relative}
.ph img{position:absolute;inset:0;width:100%;height:100%;object-fit:cover}
.ci{padding:8px 10px;display:flex;flex-direction:column;gap:3px}
.pt{font-size:12.5px;font-weight:500;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden}
.pp{font-weight:700;color:var(--c);font-size:13px}
.ps{font-size:11px;color:#b45309}
.chips{display:flex;gap:6px;overflow-x:auto;scrollbar-width:none;padding:8px 12px 0;background:#fff}
.chip{flex:none}
.chip{border:1px solid var(--c);color:var(--c);background:#fff;border-radius:16px;padding:5px 11px;font-size:12.5px;cursor:pointer}
.chip:hover{background:var(--c);color:#fff}
form{display:flex;gap:8px;padding:10px 12px;background:#fff;align-items:flex-end}
textarea{flex:1;resize:none;border:1px solid #d1d5db;border-radius:12px;padding:9px 12px;font-size:14px;max-height:110px;min-height:40px;line-height:1.4;color:#111827;outline:0}
textarea:focus{border-color:var(--c);box-shadow:0 0 0 3px rgba(79,70,229,.15)}
.sd{width:40px;height:40px;border-radius:50%;border:0;background:var(--c);color:#fff;cursor:pointer;display:grid;place-items:center;flex:none}
.sd:disabled{opacity:.45;cursor:default}
.by{text-align:center;font-size:10.5px;color:#9ca3af;padding:0 0 8px;background:#fff}
@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100vh;border-radius:0}}`;

  const ICON = {
    chat: '<svg width="28" height="28" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/></svg>',
    x: '<svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>',
    send: '<svg width="18" height="18" viewBox="0 0 24 24" fill="currentColor" aria-hidden="true"><path d="M3 20.5l18-8.5L3 3.5l2.5 8.5zM5.5 12H13"/></svg>',
    person: '<svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true"><circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/></svg>',
    bot: '<svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" aria-hidden="true"><rect x="4" y="8" width="16" height="12" rx="3"/><path d="M12 4v4M9 14h.01M15 14h.01"/></svg>',
  };

  // ---- DOM (static markup only; no data is ever interpolated into it)
  const host = document.createElement("div");
  host.id = "kefu-widget";
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `<style>${CSS}</style>
<button class="launch" type="button" aria-haspopup="dialog" aria-expanded="false" aria-controls="p">${ICON.chat}<span class="badge" hidden></span></button>
<section class="panel" id="p" role="dialog" aria-modal="false" aria-labelledby="t" hidden>
 <header><div class="av">${ICON.bot}</div><div class="hd"><h2 id="t"></h2><p class="sub"><span class="dot"></span><span class="sx"></span></p></div>
 <button class="ib hu" type="button">${ICON.person}</button><button class="ib cl" type="button">${ICON.x}</button></header>
 <div class="note" role="status" hidden></div>
 <div class="log" role="log" aria-live="polite" tabindex="0"></div>
 <div class="chips" role="group"></div>
 <form><textarea rows="1"></textarea><button class="sd" type="submit">${ICON.send}</button></form>
 <div class="by"></div>
</section>`;
  const $ = (s) => root.querySelector(s);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  };
  const launch = $(".launch"), panel = $(".panel"), log = $(".log"), chips = $(".chips"), note = $(".note");
  const form = $("form"), input = $("textarea"), sendBtn = $(".sd"), badge = $(".badge");
  host.style.setProperty("--c", attr("color") || "#4f46e5");
  $("#t").textContent = attr("title") || T.title;
  $(".sx").textContent = T.sub;
  $(".by").textContent = T.by;
  launch.setAttribute("aria-label", T.open);
  $(".hu").setAttribute("aria-label", T.human);
  $(".hu").title = T.human;
  $(".cl").setAttribute("aria-label", T.close);
  log.setAttribute("aria-label", T.log);
  chips.setAttribute("aria-label", T.chipsLabel);
  input.placeholder = T.ph;
  input.setAttribute("aria-label", T.ph);
  sendBtn.setAttribute("aria-label", T.send);

  // ---- state
  const load = (k, d) => { try { return JSON.parse(localStorage.getItem(k)) || d; } catch { return d; } };
  const save = (k, v) => { try { localStorage.setItem(k, JSON.stringify(v)); } catch { /* private mode */ } };
  let conv = load(KEY, null); // {id, token}
  let outbox = load(OUTBOX, []); // [{cid, text}] not yet answered
  let busy = false, status = "bot", es = null, esTries = 0, esTimer = 0, retryTimer = 0, unread = 0;
  const seen = new Set();
  const rid = () => Math.random().toString(36).slice(2, 10) + Date.now().toString(36);

  const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  const scroll = (force) => { if (force || nearBottom()) log.scrollTop = log.scrollHeight; };

  function api(path, opts = {}) {
    const headers = Object.assign({ "Content-Type": "application/json" }, opts.headers || {});
    if (conv) headers.Authorization = "Bearer " + conv.token;
    return fetch(BASE + path, Object.assign({}, opts, { headers, credentials: "omit" }));
  }

  function bubble(role, text, opts = {}) {
    const m = el("div", "m " + role);
    if (role !== "user") m.append(el("div", "who", role === "agent" ? (opts.name || T.agent) : T.bot));
    const b = el("div", "b", text);
    m.append(b);
    if (opts.products && opts.products.length) addCards(m, opts.products);
    if (opts.id) { m.dataset.id = opts.id; seen.add(opts.id); }
    const typing = log.querySelector(".typing-row");
    log.insertBefore(m, opts.beforeTyping && typing ? typing : null);
    scroll(role !== "bot");
    return m;
  }
  const sysLine = (text) => { log.append(el("div", "sys", text)); scroll(); };

  // Catalog URLs are the shop's own paths: resolve them against the page, allow only http(s).
  function safeUrl(u) {
    try { const x = new URL(u, location.href); return /^https?:$/.test(x.protocol) ? x.href : ""; } catch { return ""; }
  }
  function price(p) {
    if (p.price == null || p.price === "") return "";
    try {
      return new Intl.NumberFormat(LANG === "zh" ? "zh-CN" : "en-US", { style: "currency", currency: p.currency || "USD" }).format(p.price);
    } catch { return String(p.price); }
  }
  // Cards take the full width of the log; the bubble above keeps its chat width.
  function addCards(m, products) {
    m.classList.add("wide");
    m.append(cards(products));
  }
  function cards(products) {
    const row = el("div", "cards");
    row.setAttribute("role", "list");
    row.setAttribute("aria-label", T.products);
    for (const p of products.slice(0, 6)) {
      if (!p || typeof p !== "object") continue;
      const title = (LANG === "zh" && (p.title_zh || (p.attributes && p.attributes.title_zh))) || p.title || p.id || "";
      const href = safeUrl(p.url || "") || (p.id ? BASE + "/p/" + encodeURIComponent(p.id) : "");
      const c = el(href ? "a" : "div", "card");
      c.setAttribute("role", "listitem");
      if (href) { c.href = href; c.target = "_blank"; c.rel = "noopener noreferrer"; }
      let h = 0;
      for (const ch of String(p.category || p.id || title)) h = (h * 31 + ch.charCodeAt(0)) % 360;
      const ph = el("div", "ph", [...title.replace(/[^\p{L}\p{N} ]/gu, "")].filter((x, i, a) => x !== " " && (i === 0 || a[i - 1] === " ")).slice(0, 2).join("").toUpperCase());
      ph.style.setProperty("--h", h);
      ph.setAttribute("aria-hidden", "true");
      const img = safeUrl(p.image_url || "");
      if (img && [BASE, location.origin].includes(new URL(img).origin)) {
        const i = el("img");
        i.alt = ""; i.loading = "lazy"; i.src = img; i.onerror = () => i.remove();
        ph.append(i);
      }
      const ci = el("div", "ci");
      ci.append(el("div", "pt", title), el("div", "pp", price(p)));
      if (typeof p.stock === "number" && p.stock <= 5) ci.append(el("div", "ps", p.stock <= 0 ? T.stockOut : T.stockLow.replace("{n}", p.stock)));
      c.append(ph, ci);
      row.append(c);
    }
    return row;
  }

  function showChips(on) {
    chips.textContent = "";
    if (!on || status !== "bot") return;
    for (const label of T.chips) {
      const b = el("button", "chip", label);
      b.type = "button";
      b.onclick = () => (label === T.human ? handoff() : send(label));
      chips.append(b);
    }
  }

  function typing(on) {
    let t = log.querySelector(".typing-row");
    if (on && !t) {
      t = el("div", "m bot typing-row");
      const b = el("div", "b typing");
      b.setAttribute("role", "img");
      b.setAttribute("aria-label", T.typing);
      b.append(el("i"), el("i"), el("i"));
      t.append(b);
      log.append(t);
      scroll(true);
    } else if (!on && t) t.remove();
  }

  function setStatus(s, quiet) {
    if (!s || s === status) return;
    const was = status;
    status = s;
    note.classList.remove("off");
    note.hidden = s === "bot";
    note.textContent = s === "human" ? T.withHuman : s === "pending_human" ? T.pending : "";
    $(".sx").textContent = s === "human" ? T.agent : T.sub;
    $(".hu").hidden = s !== "bot";
    if (!quiet && s === "bot" && was !== "bot") sysLine(T.back);
    showChips(s === "bot" && !busy);
    scroll(true);
  }

  function offline(on) {
    if (on) { note.hidden = false; note.classList.add("off"); note.textContent = T.offline; }
    else if (note.classList.contains("off")) { note.classList.remove("off"); const s = status; status = ""; setStatus(s, true); }
  }

  // ---- conversation lifecycle
  function forget() {
    conv = null;
    try { localStorage.removeItem(KEY); } catch { /* ignore */ }
    if (es) { es.close(); es = null; }
  }
  async function ensureConv() {
    if (conv) return conv;
    const body = { lang: LANG };
    if (attr("identity-email") && attr("identity-signature")) {
      body.identity = { email: attr("identity-email"), signature: attr("identity-signature") };
    }
    const r = await api("/v1/conversations", { method: "POST", body: JSON.stringify(body) });
    if (!r.ok) throw new Error("create " + r.status);
    const j = await r.json();
    conv = { id: j.conversation_id, token: j.token };
    save(KEY, conv);
    connect();
    return conv;
  }

  function render(messages) {
    log.textContent = "";
    seen.clear();
    bubble("bot", T.welcome);
    for (const m of messages) {
      if (!m || !m.text) continue;
      const role = m.role === "user" || m.role === "agent" ? m.role : "bot";
      bubble(role, m.text, { id: m.message_id, products: role === "bot" ? m.products : null, name: m.agent_name });
    }
    for (const o of outbox) o.el = bubble("user", o.text);
    markOutbox();
    scroll(true);
  }

  // Returns false when the conversation is gone (expired or token rejected).
  async function syncHistory() {
    if (!conv) return true;
    const r = await api(`/v1/conversations/${encodeURIComponent(conv.id)}/messages`);
    if ([401, 403, 404].includes(r.status)) { forget(); return false; }
    if (!r.ok) throw new Error("history " + r.status);
    const j = await r.json();
    if (!busy) render(j.messages || []);
    if (j.status) setStatus(j.status, true);
    showChips(!busy);
    return true;
  }

  // Live agent messages. EventSource cannot send headers, hence ?token=. We run our own backoff
  // (the browser's gives up for good on HTTP errors) and catch up from history on every reconnect.
  function connect() {
    if (!conv || es || esTimer) return;
    const src = new EventSource(`${BASE}/v1/conversations/${encodeURIComponent(conv.id)}/events?token=${encodeURIComponent(conv.token)}`);
    es = src;
    src.onopen = () => {
      if (esTries) { syncHistory().catch(() => 0); flush(); }
      esTries = 0;
      offline(false);
    };
    const data = (e) => { try { return JSON.parse(e.data); } catch { return {}; } };
    src.addEventListener("message", (e) => live(data(e)));
    src.addEventListener("status", (e) => setStatus(data(e).status));
    src.addEventListener("ready", (e) => setStatus(data(e).status, true));
    src.onerror = () => {
      src.close();
      if (es === src) es = null;
      esTries++;
      if (esTries > 1) offline(true);
      const wait = Math.min(30000, 1000 * 2 ** Math.min(esTries - 1, 5)) * (0.75 + Math.random() / 2);
      esTimer = setTimeout(async () => {
        esTimer = 0;
        try { if (await syncHistory()) connect(); } catch { src.onerror(); }
      }, wait);
    };
  }
  function live(m) {
    // Bot and shopper turns arrive through our own POST stream; only agents' words come here.
    if (!m || !m.text || (m.message_id && seen.has(m.message_id))) return;
    if (m.role === "system") return sysLine(m.text);
    if (m.role !== "agent") return;
    bubble("agent", m.text, { id: m.message_id, name: m.agent_name, beforeTyping: true });
    if (status !== "human") setStatus("human");
    if (panel.hidden) { unread++; badge.textContent = String(unread); badge.hidden = false; }
  }

  // ---- sending: an outbox, sent one at a time so turns stay in order; failures stay visible
  // with a Retry button and are re-sent automatically when the connection comes back.
  function markOutbox() {
    for (const o of outbox) {
      if (!o.el) continue;
      let st = o.el.querySelector(".st");
      if (!st) { st = el("div", "st"); o.el.append(st); }
      st.textContent = "";
      o.el.classList.toggle("failed", !!o.failed);
      if (o.failed) {
        const rb = el("button", "rt", T.retry);
        rb.type = "button";
        rb.onclick = () => { o.failed = false; markOutbox(); flush(); };
        st.append(el("span", "", T.failed + " ·"), rb);
      } else st.textContent = T.sending;
    }
  }
  function send(text) {
    text = String(text || "").trim();
    if (!text) return;
    const o = { cid: "c-" + rid(), text };
    outbox.push(o);
    save(OUTBOX, outbox.map(({ cid, text }) => ({ cid, text })));
    o.el = bubble("user", text);
    markOutbox();
    showChips(false);
    flush();
  }
  async function flush() {
    if (busy) return;
    clearTimeout(retryTimer);
    while (outbox.length && !outbox[0].failed) {
      const o = outbox[0];
      busy = true;
      try {
        await turn(o);
        outbox.shift();
        save(OUTBOX, outbox.map(({ cid, text }) => ({ cid, text })));
        const st = o.el && o.el.querySelector(".st");
        if (st) st.remove();
        o.tries = 0;
      } catch (e) {
        o.failed = true;
        o.tries = (o.tries || 0) + 1;
        markOutbox();
        // Auto-retry with backoff; a click on Retry or coming back online is sooner.
        retryTimer = setTimeout(() => { o.failed = false; markOutbox(); flush(); }, Math.min(30000, 2000 * 2 ** o.tries));
        break;
      } finally {
        busy = false;
        typing(false);
        log.removeAttribute("aria-busy");
      }
    }
    if (!outbox.length) showChips(true);
  }

  async function turn(o, again) {
    await ensureConv();
    typing(true);
    log.setAttribute("aria-busy", "true");
    const r = await api(`/v1/conversations/${encodeURIComponent(conv.id)}/messages`, {
      method: "POST",
      headers: { Accept: "text/event-stream" },
      body: JSON.stringify({ text: o.text, client_message_id: o.cid }),
    });
    if ([401, 403, 404].includes(r.status) && !again) { forget(); return turn(o, true); }
    if (!r.ok) throw new Error("send " + r.status);
    if (o.el) { const st = o.el.querySelector(".st"); if (st) st.remove(); }
    let m = null, acc = "", products = null, done = null;
    const ensure = () => {
      if (!m) { m = bubble("bot", "", { beforeTyping: true }); m.querySelector(".b").setAttribute("aria-busy", "true"); }
      return m;
    };
    const onEvent = (ev, d) => {
      if (ev === "token") {
        const piece = typeof d === "string" ? d : d.text ?? d.delta ?? d.token ?? "";
        if (!piece) return;
        acc += piece;
        typing(false);
        ensure().querySelector(".b").textContent = acc;
        scroll();
      } else if (ev === "reset") {
        acc = ""; // generated words withdrawn (grounding check): the template follows
        if (m) m.querySelector(".b").textContent = "";
      } else if (ev === "products") {
        const list = Array.isArray(d) ? d : d.products;
        if (list && list.length && !products) products = list;
      } else if (ev === "done") done = d;
      else if (ev === "error") throw new Error((d.error && d.error.message) || "stream error");
    };
    if (/text\/event-stream/.test(r.headers.get("content-type") || "")) await readSSE(r, onEvent);
    else onEvent("done", await r.json());
    if (!done) {
      if (m) m.remove();
      throw new Error("stream ended early");
    }
    const final = (done.reply && done.reply.text) || acc;
    if (!products && done.products && done.products.length) products = done.products;
    if (final) {
      const b = ensure().querySelector(".b");
      b.textContent = final;
      b.removeAttribute("aria-busy");
      if (done.message_id) { m.dataset.id = done.message_id; seen.add(done.message_id); }
      if (products && products.length) addCards(m, products);
    } else if (m) m.remove();
    if (done.status) setStatus(done.status);
    else if (done.handoff && status === "bot") setStatus("pending_human");
    scroll(true);
  }

  async function readSSE(r, on) {
    const reader = r.body.getReader(), dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      // Normalise CRLF / CR, keeping a trailing lone CR until we see what follows it.
      buf = (buf + dec.decode(value, { stream: true })).replace(/\r\n|\r(?!$)/g, "\n");
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let ev = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (!line || line[0] === ":") continue;
          const c = line.indexOf(":");
          const k = c < 0 ? line : line.slice(0, c);
          let v = c < 0 ? "" : line.slice(c + 1);
          if (v[0] === " ") v = v.slice(1);
          if (k === "event") ev = v;
          else if (k === "data") data.push(v);
        }
        if (!data.length) continue;
        let d = data.join("\n");
        try { d = JSON.parse(d); } catch { /* plain text payload */ }
        on(ev, d);
      }
    }
  }

  async function handoff() {
    showChips(false);
    try {
      await ensureConv();
      const r = await api(`/v1/conversations/${encodeURIComponent(conv.id)}/handoff`, {
        method: "POST", body: JSON.stringify({ reason: "requested" }),
      });
      if (r.status === 404 || r.status === 405) return send(T.handoffText);
      if (!r.ok) throw new Error("handoff " + r.status);
      const j = await r.json().catch(() => ({}));
      sysLine(T.asked);
      setStatus(j.status || "pending_human", true);
    } catch {
      sysLine(T.err);
    }
  }

  // ---- open / close, keyboard
  function open(focus = true) {
    panel.hidden = false;
    launch.setAttribute("aria-expanded", "true");
    launch.setAttribute("aria-label", T.close);
    unread = 0;
    badge.hidden = true;
    try { sessionStorage.setItem(OPEN, "1"); } catch { /* ignore */ }
    scroll(true);
    if (focus) input.focus();
  }
  function close() {
    panel.hidden = true;
    launch.setAttribute("aria-expanded", "false");
    launch.setAttribute("aria-label", T.open);
    try { sessionStorage.removeItem(OPEN); } catch { /* ignore */ }
    launch.focus();
  }
  launch.onclick = () => (panel.hidden ? open() : close());
  $(".cl").onclick = close;
  $(".hu").onclick = handoff;
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); close(); } });
  form.onsubmit = (e) => {
    e.preventDefault();
    send(input.value);
    input.value = "";
    input.style.height = "";
    input.focus();
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  input.addEventListener("input", () => { input.style.height = "auto"; input.style.height = Math.min(110, input.scrollHeight) + "px"; });
  window.addEventListener("online", () => {
    for (const o of outbox) o.failed = false;
    markOutbox();
    flush();
    if (!es && conv) { clearTimeout(esTimer); esTimer = 0; esTries = Math.max(esTries, 1); syncHistory().then((ok) => ok && connect()).catch(() => 0); }
  });

  // ---- boot
  function boot() {
    document.body.append(host);
    render([]);
    showChips(true);
    if (conv) {
      syncHistory().then((ok) => { if (ok) connect(); flush(); }).catch(() => { connect(); flush(); });
    } else if (outbox.length) flush();
    let wasOpen = false;
    try { wasOpen = sessionStorage.getItem(OPEN) === "1"; } catch { /* ignore */ }
    if (wasOpen || attr("open") === "true") open(false);
  }
  window.kefu = {
    loaded: true, open, close, send,
    ask: (text) => { open(); send(text); },
    get conversationId() { return conv && conv.id; },
  };
  if (document.body) boot(); else document.addEventListener("DOMContentLoaded", boot);
})();
