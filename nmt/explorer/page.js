// nmt explore: the page. Plain JavaScript, no libraries; the data sits in <script id="data"> (see
// nmt/explorer/__init__.py for its layout). State lives in the URL fragment: #s=3&hyp=0&level=word&layer=mean&head=2
// (layer2/head2 for the second model), so a link opens the same view.
"use strict";

const DATA = JSON.parse(document.getElementById("data").textContent);
const SCALE = DATA.scale;
const $ = (id) => document.getElementById(id);
const FONT = "13px system-ui, sans-serif", LABEL_FONT = "11px system-ui, sans-serif";
const state = { s: 0, hyp: 0, level: "word", views: DATA.models.map((m) => m.views.length - 1) };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

// ---- data: each view of a hypothesis is inflated when first shown (the browser's DecompressionStream) ----
const cache = new Map();

async function matrices(s, m, h, v) {
  const rec = DATA.sentences[s].runs[m][h];
  if (!rec.matrices) return null;
  const key = `${s}/${m}/${h}/${v}`;
  if (!cache.has(key)) {
    const bin = atob(rec.matrices[v]);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    const planes = new Uint8Array(await new Response(stream).arrayBuffer());  // every low byte, then every high byte
    const n = planes.length / 2, flat = new Uint16Array(n);
    for (let i = 0; i < n; i++) flat[i] = planes[i] | (planes[n + i] << 8);
    const T = rec.tgtPieces.length, S = rec.srcPieces.length;
    if (cache.size > 200) cache.delete(cache.keys().next().value);
    cache.set(key, { subword: flat.subarray(0, T * S), word: flat.subarray(T * S) });  // [T,S], then [Tw,Sw]
  }
  return cache.get(key);
}

const fmt = (v) => (v / SCALE).toFixed(4);

// ---- the sentence list: search and sort ----
const SORTS = [
  ["order", "corpus order", (s, i) => i],
  ["length", "source length", (s) => s.source.split(/\s+/).length],
  ["score", "model score (lowest first)", (s) => s.runs[0][0].score],
];
if (DATA.gold && DATA.models[0].informative) SORTS.push(["aer", "AER (highest first)", (s) => -aerOf(s, 0)]);
if (DATA.models.length > 1) SORTS.push(["disagreement", "disagreement of the models", (s) => -(s.disagreement ?? -1)]);

function aerOf(sentence, m) {
  const rec = sentence.runs[m][0];
  return rec.aer ? rec.aer[rec.aer.length - 1][0] : -1;  // the default view: mean over layers and heads
}

function buildList() {
  const sort = $("sort");
  for (const [key, label] of SORTS) sort.append(el("option", { value: key }, label));
  sort.onchange = fillList;
  $("search").oninput = fillList;
  fillList();
}

function fillList() {
  const query = $("search").value.trim().toLowerCase();
  const key = SORTS.find((s) => s[0] === $("sort").value)[2];
  const order = DATA.sentences.map((s, i) => [key(s, i), i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const items = [];
  for (const [, i] of order) {
    const s = DATA.sentences[i];
    if (query && !(s.source + " " + s.runs.map((r) => r[0].text).join(" ")).toLowerCase().includes(query)) continue;
    const badge = $("sort").value === "aer" ? `AER ${aerOf(s, 0).toFixed(2)}`
      : $("sort").value === "disagreement" ? `Δ ${s.disagreement === null ? "n/a" : s.disagreement.toFixed(2)}`
      : $("sort").value === "score" ? `${s.runs[0][0].score.toFixed(2)}` : "";
    const li = el("li", { "data-index": i, title: s.source }, el("b", {}, `${i}`), el("small", {}, badge), ` ${s.source}`);
    if (i === state.s) li.className = "current";
    li.onclick = () => show(i);
    items.push(li);
  }
  $("list").replaceChildren(...items);
}

// ---- one sentence ----
let drawing = 0;  // the latest call of show(): an earlier one still inflating its matrices draws nothing

async function show(s, options = {}) {
  const mine = ++drawing;
  performance.mark("switch-start");
  state.s = Math.max(0, Math.min(DATA.sentences.length - 1, s));
  if (!options.keepHyp) state.hyp = 0;
  const sentence = DATA.sentences[state.s];
  const header = el("div", {}, el("h2", {}, `Sentence ${state.s} (of 0–${DATA.sentences.length - 1}, numbered as nmt align numbers them)`),
    el("p", { class: "source" }, sentence.source));
  const levels = el("div", { class: "controls" }, "level ");
  for (const level of ["word", "subword"]) {
    const b = el("button", { "data-level": level, class: level === state.level ? "on" : "" }, level);
    b.onclick = () => { state.level = level; show(state.s, { keepHyp: true }); };
    levels.append(b);
  }
  header.append(levels);
  if (sentence.disagreement !== undefined) header.append(el("p", {}, `disagreement of the two models' links: ${sentence.disagreement === null ? "n/a" : sentence.disagreement.toFixed(4)}`));
  const panels = [];
  for (let m = 0; m < DATA.models.length; m++) panels.push(await panel(m));
  if (mine !== drawing) return;
  $("sentence").replaceChildren(header);
  $("panels").replaceChildren(...panels);
  for (const li of $("list").children) li.className = +li.dataset.index === state.s ? "current" : "";
  writeHash();
  performance.measure("switch", "switch-start");
}

async function panel(m) {
  const model = DATA.models[m], runs = DATA.sentences[state.s].runs[m];
  const h = Math.min(state.hyp, runs.length - 1), rec = runs[h];
  const box = el("section", { class: "panel", id: `panel-${m}` });
  box.append(el("h3", {}, `${model.name} `, el("small", {}, `${model.family}, attention ${model.attention}, ${model.layers} layer(s) × ${model.heads} head(s)`)));
  const nbest = el("ol", { class: "nbest" });
  runs.forEach((r, i) => {
    const li = el("li", { class: i === h ? "on" : "", "data-hyp": i }, el("span", { class: "score" }, r.score.toFixed(4)), ` ${r.text}`);
    li.onclick = () => { state.hyp = i; show(state.s, { keepHyp: true }); };
    nbest.append(li);
  });
  box.append(nbest);
  if (!model.informative) {
    box.append(el("p", { class: "none" }, "This model has no attention: its decoder sees the source only through the encoder's final state, and its weights are uniform, so there is no heatmap or alignment to show."));
    return box;
  }
  const v = state.views[m];
  const view = await matrices(state.s, m, h, v);
  box.append(viewControls(m));
  const word = state.level === "word";
  const rows = word ? rec.tgtWords : rec.tgtPieces, cols = word ? rec.srcWords : rec.srcPieces;
  box.append(heatmap(m, rows, cols, word ? view.word : view.subword));
  const links = rec.links[v];
  box.append(linkView(rec, links, DATA.sentences[state.s].gold));
  if (rec.aer) {
    const [aer, p, r] = rec.aer[v];
    box.append(el("p", { class: "aer", id: `aer-${m}`, "data-aer": aer.toFixed(4) },
      `this sentence, this view: AER ${aer.toFixed(4)}  precision ${p.toFixed(4)}  recall ${r.toFixed(4)}`));
  }
  return box;
}

function viewControls(m) {
  const model = DATA.models[m], suffix = m ? "2" : "";
  const [layer, head] = model.views[state.views[m]];
  const box = el("div", { class: "controls" });
  for (const [what, index] of [["layer", 0], ["head", 1]]) {
    const values = [...new Set(model.views.map((v) => v[index]))];
    if (values.length < 2) continue;
    const select = el("select", { id: `${what}${suffix}`, "aria-label": what });
    for (const value of values) select.append(el("option", { value }, value));
    select.value = index ? head : layer;
    select.onchange = () => {
      const now = model.views[state.views[m]];  // the view at the time of the change, not of the drawing
      const want = index ? [now[0], select.value] : [select.value, now[1]];
      state.views[m] = model.views.findIndex((v) => v[0] === want[0] && v[1] === want[1]);
      show(state.s, { keepHyp: true });
    };
    box.append(el("label", {}, `${what} `, select), " ");
  }
  return box;
}

// ---- heatmap: canvas, one pixel per cell scaled up; white = weight 1 (Bahdanau et al. 2015, Fig. 3) ----
function heatmap(m, rows, cols, values) {
  const wrap = el("div", { class: "heatmap" });
  const measure = document.createElement("canvas").getContext("2d");
  measure.font = LABEL_FONT;
  const room = Math.max(300, $("panels").clientWidth / DATA.models.length - 40);
  // Cells fit the panel; up to 80 columns they stay big enough for labels (the panel scrolls), beyond
  // that they shrink to an overview (hover names the words); the canvas stays under 16,000 px tall.
  const fit = Math.floor((room - 120) / Math.max(1, cols.length));
  const cell = Math.max(1, Math.min(26, Math.max(cols.length <= 80 ? 13 : 2, fit), Math.floor(16000 / Math.max(1, rows.length))));
  const labels = cell >= 13;
  const width = (words) => (labels ? Math.min(160, Math.max(0, ...words.map((w) => measure.measureText(w).width)) + 8) : 4);
  const left = width(rows), top = width(cols);
  const W = left + cols.length * cell, H = top + rows.length * cell;
  const canvas = el("canvas", { class: "matrix", id: `matrix-${m}`, "data-left": left, "data-top": top, "data-cell": cell,
    "data-rows": rows.length, "data-cols": cols.length });
  const overlay = el("canvas", { class: "overlay" });
  const ratio = window.devicePixelRatio || 1;
  for (const c of [canvas, overlay]) {
    c.width = W * ratio; c.height = H * ratio; c.style.width = `${W}px`; c.style.height = `${H}px`;
    c.getContext("2d").scale(ratio, ratio);
  }
  const ctx = canvas.getContext("2d");
  const pixels = new ImageData(Math.max(1, cols.length), Math.max(1, rows.length));
  const px = pixels.data;
  for (let i = 0; i < values.length; i++) {
    const g = Math.round((values[i] / SCALE) * 255);
    px[4 * i] = px[4 * i + 1] = px[4 * i + 2] = g;
    px[4 * i + 3] = 255;
  }
  const small = document.createElement("canvas");
  small.width = pixels.width; small.height = pixels.height;
  small.getContext("2d").putImageData(pixels, 0, 0);
  ctx.imageSmoothingEnabled = false;
  if (values.length) ctx.drawImage(small, left, top, cols.length * cell, rows.length * cell);
  if (labels) {
    ctx.font = LABEL_FONT; ctx.fillStyle = "#222"; ctx.textBaseline = "middle"; ctx.textAlign = "right";
    rows.forEach((w, t) => ctx.fillText(w, left - 4, top + (t + 0.5) * cell, left - 6));
    cols.forEach((w, s) => {
      ctx.save(); ctx.translate(left + (s + 0.5) * cell, top - 4); ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "left"; ctx.fillText(w, 0, 0, top - 6); ctx.restore();
    });
  }
  const info = el("div", { class: "info", id: `info-${m}` }, "hover a cell for its weight");
  overlay.onmousemove = (event) => {
    const box = overlay.getBoundingClientRect();
    const s = Math.floor((event.clientX - box.left - left) / cell), t = Math.floor((event.clientY - box.top - top) / cell);
    const o = overlay.getContext("2d");
    o.clearRect(0, 0, W, H);
    if (s < 0 || t < 0 || s >= cols.length || t >= rows.length) return;
    o.fillStyle = "rgba(255, 196, 0, 0.28)";
    o.fillRect(0, top + t * cell, W, cell);  // the row, its word included
    o.fillRect(left + s * cell, 0, cell, H);  // the column, its word included
    o.strokeStyle = "#e53935"; o.lineWidth = 2; o.strokeRect(left + s * cell, top + t * cell, cell, cell);
    const value = fmt(values[t * cols.length + s]);
    info.dataset.value = value; info.dataset.row = t; info.dataset.col = s;
    info.textContent = `“${rows[t]}” (target ${t}) → “${cols[s]}” (source ${s}): ${value}`;
  };
  overlay.onmouseleave = () => overlay.getContext("2d").clearRect(0, 0, W, H);
  const stack = el("div", { class: "stack" }, canvas, overlay);
  wrap.append(stack, info);
  return wrap;
}

// ---- links between the two word rows: predicted (hard links of this view) against gold ----
function linkView(rec, links, gold) {
  const measure = document.createElement("canvas").getContext("2d");
  measure.font = FONT;
  const place = (words) => {
    let x = 4;
    return words.map((w) => { const width = measure.measureText(w).width; const c = x + width / 2; x += width + 14; return c; });
  };
  const xs = place(rec.srcWords), xt = place(rec.tgtWords);
  const W = Math.max(200, ...xs.map((x) => x + 80), ...xt.map((x) => x + 80)), H = 150, y0 = 22, y1 = 128;
  const root = svg("svg", { class: "links", width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  const key = (l) => `${l[0]}-${l[1]}`;
  const sure = new Set((gold ? gold.sure : []).map(key)), possible = new Set((gold ? gold.possible : []).map(key));
  const predicted = new Set(links.map(key));
  const line = (l, cls) => root.append(svg("line", { x1: xs[l[0]], y1: y0 + 6, x2: xt[l[1]], y2: y1 - 14, class: cls, "data-link": key(l) }));
  if (gold) {
    for (const l of gold.sure) if (!predicted.has(key(l))) line(l, "missed-sure");
    for (const l of gold.possible) if (!predicted.has(key(l))) line(l, "missed-possible");
  }
  for (const l of links) line(l, !gold ? "link" : sure.has(key(l)) ? "hit-sure" : possible.has(key(l)) ? "hit-possible" : "wrong");
  rec.srcWords.forEach((w, i) => { const t = svg("text", { x: xs[i], y: y0, class: "word" }); t.textContent = w; root.append(t); });
  rec.tgtWords.forEach((w, j) => { const t = svg("text", { x: xt[j], y: y1, class: "word" }); t.textContent = w; root.append(t); });
  const legend = gold ? "green: predicted and sure gold · blue: predicted and possible gold · red: predicted, not gold · grey dashed: gold sure missed · grey dotted: gold possible missed"
    : "each target word (below) linked to the source word (above) it attends to most";
  return el("div", { class: "linkbox" }, root, el("p", { class: "legend" }, legend));
}

// ---- the URL fragment ----
function writeHash() {
  const p = new URLSearchParams({ s: state.s, hyp: state.hyp, level: state.level });
  DATA.models.forEach((model, m) => {
    const [layer, head] = model.views[state.views[m]] || ["0", "0"];
    p.set(`layer${m ? "2" : ""}`, layer); p.set(`head${m ? "2" : ""}`, head);
  });
  history.replaceState(null, "", `#${p}`);
}

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  state.hyp = Math.max(0, parseInt(p.get("hyp") || "0", 10) || 0);
  state.level = p.get("level") === "subword" ? "subword" : "word";
  DATA.models.forEach((model, m) => {
    const suffix = m ? "2" : "", last = model.views.length - 1;
    const [layer, head] = model.views[last] || ["0", "0"];
    const want = [p.get(`layer${suffix}`) ?? layer, p.get(`head${suffix}`) ?? head];
    const v = model.views.findIndex((x) => x[0] === want[0] && x[1] === want[1]);
    state.views[m] = v < 0 ? last : v;
  });
  return parseInt(p.get("s") || "0", 10) || 0;
}

async function start() {
  document.title = DATA.title;
  $("title").textContent = DATA.title;
  const what = DATA.mode === "align" ? "forced alignment of given pairs" : "the models' own translations";
  $("summary").textContent = `${DATA.sentences.length} sentences, ${what}; ${DATA.models.map((m) => m.name).join(" and ")}`;
  buildList();
  await show(readHash(), { keepHyp: true });
  window.addEventListener("hashchange", () => show(readHash(), { keepHyp: true }));
  performance.mark("ready");
  document.body.dataset.ready = "1";
}

window.explorer = { show, state, data: DATA, cache };
start();
