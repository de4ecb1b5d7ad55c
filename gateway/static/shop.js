/* The demo storefront: product grid from GET /v1/shop/products, category filter, and buttons
 * that hand questions to the chat widget (window.kefu). Catalog text is set with textContent. */
(() => {
  "use strict";
  const params = new URLSearchParams(location.search);
  let lang = /^zh/.test(params.get("lang") || "") ? "zh" : "en";
  // Set before widget.js runs so the widget speaks the page's language.
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";

  const S = {
    en: {
      promo: "Order help, returns and product advice — answered in seconds, around the clock.", search: "Search products",
      help: "Help", eyebrow: "New season", hero: "Everyday things, thoughtfully made.",
      lead: "Questions about an order, sizing or returns? Our assistant answers in seconds, day and night — and a person is one click away.",
      cta: "Chat with us", all: "All products", allCat: "All", sort: "Sort", featured: "Featured",
      asc: "Price: low to high", desc: "Price: high to low", more: "Load more", count: "{n} of {t} products",
      ask: "Ask", askQ: "Tell me about {t}", inStock: "In stock", low: "Only {n} left", out: "Sold out",
      empty: "Nothing matches “{q}” on this page.", askBot: "Ask our assistant", error: "The catalog could not be loaded. Please refresh in a moment.",
      footTag: "Customer service that answers from your real orders, catalog and policies.",
      footHelp: "Help", track: "Track my order", returns: "Returns & refunds", shipping: "Shipping",
      about: "About", note: "A demo storefront for kefu, the open-source customer-service stack.",
      qTrack: "Where is my order?", qReturns: "What is your return policy?", qShipping: "How long does shipping take?",
      switchTo: "中文", switchHref: "?lang=zh", cart: "Cart: {n} items",
      back: "← All products", askAbout: "Ask about this product", notFound: "This product is not in the catalog.",
      details: "Details", stockN: "{n} in stock",
    },
    zh: {
      promo: "订单查询、退换货、选购建议 —— 全天候秒级回复", search: "搜索商品", help: "帮助", eyebrow: "新品上市",
      hero: "好物日常，用心之选。", lead: "订单、尺码、退换货有疑问？智能客服秒级回复，全天在线；随时一键转人工。",
      cta: "联系客服", all: "全部商品", allCat: "全部", sort: "排序", featured: "推荐",
      asc: "价格从低到高", desc: "价格从高到低", more: "加载更多", count: "{n} / {t} 件商品",
      ask: "咨询", askQ: "介绍一下{t}", inStock: "有货", low: "仅剩 {n} 件", out: "售罄",
      empty: "本页没有与“{q}”匹配的商品。", askBot: "问问智能客服", error: "商品目录加载失败，请稍后刷新。",
      footTag: "基于真实订单、商品目录和店铺政策作答的客服系统。", footHelp: "帮助", track: "查询订单",
      returns: "退换货与退款", shipping: "配送说明", about: "关于", note: "kefu 开源客服系统的演示店铺。",
      qTrack: "我的订单到哪了？", qReturns: "你们的退货政策是什么？", qShipping: "配送需要多长时间？",
      switchTo: "English", switchHref: "?lang=en", cart: "购物车：{n} 件",
      back: "← 全部商品", askAbout: "咨询这件商品", notFound: "目录中没有这件商品。",
      details: "商品详情", stockN: "库存 {n} 件",
    },
  };
  let t = S[lang];
  const $ = (id) => document.getElementById(id);
  const fmt = (s, o) => s.replace(/\{(\w)\}/g, (_, k) => o[k]);
  const PAGE = 24;
  const state = { category: "", offset: 0, total: 0, items: [], sort: "featured", q: "" };

  function applyStrings() {
    const text = {
      promo: t.promo, "help-btn": t.help, "hero-eyebrow": t.eyebrow, "hero-title": t.hero, "hero-lead": t.lead,
      "hero-cta": t.cta, "sort-label": t.sort, more: t.more, "foot-tag": t.footTag, "foot-help": t.footHelp,
      "foot-about": t.about, "foot-note": t.note, "lang-switch": t.switchTo,
    };
    for (const [id, s] of Object.entries(text)) $(id).textContent = s;
    $("q").placeholder = t.search;
    $("q").setAttribute("aria-label", t.search);
    $("lang-switch").href = t.switchHref;
    $("lang-switch").lang = lang === "zh" ? "en" : "zh";
    const opts = $("sort").options;
    opts[0].textContent = t.featured; opts[1].textContent = t.asc; opts[2].textContent = t.desc;
    for (const b of document.querySelectorAll("[data-ask]")) b.textContent = t[b.dataset.ask];
    document.querySelector(".cart").setAttribute("aria-label", fmt(t.cart, { n: 0 }));
  }

  const api = (path) => fetch(path, { headers: { Accept: "application/json" } }).then((r) => {
    if (!r.ok) throw new Error(path + " " + r.status);
    return r.json();
  });

  const money = (p) => {
    if (p.price == null) return "";
    try {
      return new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en-US", { style: "currency", currency: p.currency || "USD" }).format(p.price);
    } catch { return String(p.price); }
  };
  const titleOf = (p) => (lang === "zh" && p.attributes && p.attributes.title_zh) || p.title || p.id;
  // FNV-1a, so neighbouring ids (P00001, P00002) still get clearly different colours.
  const hue = (s) => { let h = 2166136261; for (const c of String(s)) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0; return h % 360; };

  const ICON_RULES = [
    [/audio|headphone|earbud|speaker|耳机|音/i, "audio"], [/phone|mobile|手机/i, "phone"],
    [/electronic|laptop|computer|tech|camera|电子|数码|电脑/i, "tech"], [/kitchen|cook|coffee|tea|厨|咖啡/i, "kitchen"],
    [/home|furniture|decor|bed|bath|garden|家居|家/i, "home"], [/shoe|sneaker|boot|鞋/i, "shoes"],
    [/apparel|cloth|fashion|shirt|wear|dress|jacket|服|衣/i, "apparel"], [/outdoor|camp|hik|tent|户外/i, "outdoor"],
    [/beauty|skin|care|cosmetic|美妆|护肤|个护/i, "beauty"], [/toy|kid|baby|game|玩具|母婴/i, "toys"],
    [/sport|fitness|yoga|运动|健身/i, "sport"], [/book|stationery|office|书|文具/i, "book"],
  ];
  function icon(p) {
    const hay = `${p.category || ""} ${p.title || ""}`;
    const rule = ICON_RULES.find(([re]) => re.test(hay));
    const svg = $("icons").content.querySelector(`svg[data-k="${rule ? rule[1] : "bag"}"]`);
    const node = svg.cloneNode(true);
    node.setAttribute("aria-hidden", "true");
    return node;
  }

  function card(p) {
    const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; };
    const c = el("article", "card");
    c.id = "product-" + p.id;
    const h = hue(p.id);
    const img = el("div", "img");
    img.style.background = `linear-gradient(135deg, hsl(${h} 70% 72%), hsl(${(h + 35) % 360} 65% 52%))`;
    img.append(icon(p));
    const stock = Number(p.stock || 0);
    const [cls, label] = stock <= 0 ? ["out", t.out] : stock <= 5 ? ["low", fmt(t.low, { n: stock })] : ["ok", t.inStock];
    img.append(el("span", "tag " + cls, label));
    const body = el("div", "body");
    body.append(el("span", "brand", p.brand || p.category || ""), el("h3", "title", titleOf(p)));
    const row = el("div", "row");
    row.append(el("span", "price", money(p)));
    const ask = el("button", "ask", t.ask);
    ask.type = "button";
    ask.setAttribute("aria-label", `${t.ask}: ${titleOf(p)}`);
    ask.onclick = () => window.kefu && window.kefu.ask(fmt(t.askQ, { t: titleOf(p) }));
    row.append(ask);
    body.append(row);
    c.append(img, body);
    return c;
  }

  function render() {
    const grid = $("grid");
    grid.textContent = "";
    let items = state.items;
    const q = state.q.trim().toLowerCase();
    if (q) items = items.filter((p) => `${titleOf(p)} ${p.title} ${p.brand} ${p.category}`.toLowerCase().includes(q));
    if (state.sort !== "featured") {
      const dir = state.sort === "price-asc" ? 1 : -1;
      items = [...items].sort((a, b) => dir * ((a.price ?? 0) - (b.price ?? 0)));
    }
    for (const p of items) grid.append(card(p));
    grid.setAttribute("aria-busy", "false");
    $("count").textContent = fmt(t.count, { n: state.items.length, t: state.total });
    $("more").hidden = state.items.length >= state.total;
    const empty = $("empty");
    empty.hidden = items.length > 0 || !q;
    empty.textContent = "";
    if (!empty.hidden) {
      empty.append(fmt(t.empty, { q: state.q }), " ");
      const b = document.createElement("button");
      b.type = "button"; b.className = "ask"; b.textContent = t.askBot;
      b.onclick = () => window.kefu && window.kefu.ask(state.q);
      empty.append(b);
    }
    const hash = location.hash.slice(1);
    const target = hash && document.getElementById(hash);
    if (target) { target.classList.add("hl"); target.scrollIntoView({ block: "center" }); }
  }

  async function load(reset) {
    if (reset) {
      state.offset = 0; state.items = [];
      $("grid").textContent = "";
      for (let i = 0; i < 8; i++) { const s = document.createElement("div"); s.className = "skel"; $("grid").append(s); }
    }
    const qs = new URLSearchParams({ limit: PAGE, offset: state.offset });
    if (state.category) qs.set("category", state.category);
    try {
      const j = await api("/v1/shop/products?" + qs);
      learnLabels(j.products || []);
      state.items = state.items.concat(j.products || []);
      state.total = j.total ?? state.items.length;
      state.offset = state.items.length;
      render();
      return j;
    } catch {
      $("grid").textContent = "";
      $("empty").hidden = false;
      $("empty").textContent = t.error;
      return null;
    }
  }

  // Category labels: the catalog's attributes.category_zh in Chinese, else the raw name, capitalised.
  const catLabel = {};
  const labelOf = (c) => catLabel[c] || (c ? c[0].toUpperCase() + c.slice(1) : t.allCat);
  function learnLabels(items) {
    for (const p of items) {
      if (p.category && lang === "zh" && p.attributes && p.attributes.category_zh) catLabel[p.category] = p.attributes.category_zh;
    }
  }

  function cats(list) {
    const box = $("cats");
    box.textContent = "";
    for (const c of ["", ...list]) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = c ? labelOf(c) : t.allCat;
      b.dataset.category = c;
      b.setAttribute("aria-pressed", String(c === state.category));
      b.onclick = () => {
        state.category = c;
        for (const x of box.children) x.setAttribute("aria-pressed", String(x === b));
        $("grid-title").textContent = c ? labelOf(c) : t.all;
        load(true);
      };
      box.append(b);
    }
  }

  // Every category in the catalog: from the API when it lists them, else from all pages.
  async function allCategories(first) {
    if (Array.isArray(first.categories)) return first.categories;
    const pages = [];
    for (let off = 0; off < Math.min(first.total || 0, 2000); off += 100) pages.push(api(`/v1/shop/products?limit=100&offset=${off}`).catch(() => ({ products: [] })));
    const items = (await Promise.all(pages)).flatMap((j) => j.products || []);
    learnLabels(items);
    return [...new Set(items.map((p) => p.category).filter(Boolean))].sort();
  }

  // A product page at /p/<id> (the catalog's own product URLs, linked from the chat's cards).
  async function productView(id) {
    const view = $("product");
    view.hidden = false;
    document.querySelector(".hero").hidden = true;
    let p = null;
    try {
      p = await api("/v1/shop/products/" + encodeURIComponent(id));
      if (p && p.product) p = p.product;
    } catch {
      // Older gateways have no single-product route: look through the catalog pages.
      for (let off = 0, total = 1; !p && off < Math.min(total, 5000); off += 100) {
        const j = await api(`/v1/shop/products?limit=100&offset=${off}`).catch(() => ({ products: [], total: 0 }));
        total = j.total || 0;
        p = (j.products || []).find((x) => x.id === id) || null;
      }
    }
    view.textContent = "";
    const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; };
    const back = el("a", "back", t.back);
    back.href = "/" + location.search;
    view.append(back);
    if (!p || !p.id) { view.append(el("p", "empty", t.notFound)); return; }
    document.title = titleOf(p);
    const c = card(p);
    const img = c.querySelector(".img");
    const info = el("div", "pinfo");
    info.append(el("span", "brand", p.brand || ""), el("h1", "", titleOf(p)), el("div", "price big", money(p)));
    const stock = Number(p.stock || 0);
    info.append(el("div", "tag inline " + (stock <= 0 ? "out" : stock <= 5 ? "low" : "ok"), stock <= 0 ? t.out : stock <= 5 ? fmt(t.low, { n: stock }) : fmt(t.stockN, { n: stock })));
    if (p.description) info.append(el("p", "desc", p.description));
    const attrs = p.attributes || {};
    const dl = el("dl", "attrs");
    for (const [k, v] of Object.entries(attrs)) {
      if (/_zh$/.test(k) || v == null || v === "") continue;
      const shown = lang === "zh" && attrs[k + "_zh"] ? attrs[k + "_zh"] : Array.isArray(v) ? v.join(", ") : typeof v === "object" ? JSON.stringify(v) : String(v);
      dl.append(el("dt", "", k), el("dd", "", shown));
    }
    if (dl.childNodes.length) info.append(el("h2", "", t.details), dl);
    const ask = el("button", "cta", t.askAbout);
    ask.type = "button";
    ask.onclick = () => window.kefu && window.kefu.ask(fmt(t.askQ, { t: titleOf(p) }));
    info.append(ask);
    const wrap = el("div", "pview");
    wrap.append(img, info);
    view.append(wrap);
  }

  async function boot() {
    applyStrings();
    $("grid-title").textContent = t.all;
    api("/v1/shop/config").then((cfg) => {
      if (cfg.shop_name) {
        $("shop-name").textContent = cfg.shop_name;
        $("foot-name").textContent = cfg.shop_name;
        document.title = cfg.shop_name;
      }
    }).catch(() => 0);
    const m = location.pathname.match(/^\/p\/([^/]+)$/);
    if (m) productView(decodeURIComponent(m[1]));
    const first = await load(true);
    if (first) cats(await allCategories(first));
  }

  const ask = (q) => window.kefu && window.kefu.ask(q);
  $("hero-cta").onclick = () => window.kefu && window.kefu.open();
  $("help-btn").onclick = () => window.kefu && window.kefu.open();
  const qMap = { track: "qTrack", returns: "qReturns", shipping: "qShipping" };
  for (const b of document.querySelectorAll("[data-ask]")) b.onclick = () => ask(t[qMap[b.dataset.ask]]);
  $("sort").onchange = (e) => { state.sort = e.target.value; render(); };
  $("q").oninput = (e) => { state.q = e.target.value; render(); };
  $("search").onsubmit = (e) => { e.preventDefault(); if (state.q.trim() && !$("empty").hidden) ask(state.q); };
  $("more").onclick = () => load(false);
  boot();
})();
