// Curio search page. Plain ES module, no dependencies, no build step.
//
// Safety rule: text that comes from the API is only ever put into the DOM with
// textContent (or as an attribute value), never parsed as HTML.

const PAGE_SIZE = 20;
const DEBOUNCE_MS = 200;
const DESCRIPTION_MAX = 200;
// A Map, not an object literal, so "toString" etc. are never valid types.
const TYPE_LABELS = new Map([['movie', 'Movie'], ['artwork', 'Artwork']]);

const byId = (id) => document.getElementById(id);
const els = {
  form: byId('search-form'),
  q: byId('q'),
  type: byId('type'),
  status: byId('status'),
  error: byId('error'),
  hint: byId('hint'),
  empty: byId('empty'),
  results: byId('results'),
  pager: byId('pager'),
  prev: byId('prev'),
  next: byId('next'),
  range: byId('range'),
  temporal: byId('temporal-link'),
};

// Request bookkeeping. Aborting the previous fetch saves bandwidth, but a
// response can already be in hand when abort() runs, so every search also gets
// a sequence number and only the newest one may render.
let controller = null;
let latestSeq = 0;
let debounceTimer = 0;

// The search currently shown (or loading); paging is relative to it.
let current = { q: '', type: '', page: 1 };

// True while the current history entry was created by typing. Typing replaces
// that entry instead of adding one per pause, so Back skips the keystrokes.
let typingEntry = false;

// ---------------------------------------------------------------- URL state

function readState() {
  const p = new URLSearchParams(location.search);
  const type = p.get('type') || '';
  const page = Number.parseInt(p.get('page') || '1', 10);
  return {
    q: (p.get('q') || '').trim(),
    type: TYPE_LABELS.has(type) ? type : '',
    page: Number.isFinite(page) && page > 0 ? page : 1,
  };
}

function stateURL(state) {
  const p = new URLSearchParams();
  if (state.q) p.set('q', state.q);
  if (state.type) p.set('type', state.type);
  if (state.q && state.page > 1) p.set('page', String(state.page));
  const qs = p.toString();
  return location.pathname + (qs ? `?${qs}` : '');
}

function writeState(state, push) {
  const url = stateURL(state);
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

function formState() {
  return { q: els.q.value.trim(), type: els.type.value, page: 1 };
}

function syncForm(state) {
  els.q.value = state.q;
  els.type.value = state.type;
}

// ---------------------------------------------------------------- API

function searchURL(state) {
  const p = new URLSearchParams({ q: state.q });
  if (state.type) p.set('type', state.type);
  p.set('limit', String(PAGE_SIZE));
  p.set('offset', String((state.page - 1) * PAGE_SIZE));
  return `/api/search?${p}`;
}

// fetchJSON returns the parsed body or throws an Error whose message is fit to
// show to the user (the API's own {"error": "..."} message when it sends one).
async function fetchJSON(url, signal) {
  let res;
  try {
    res = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new Error('Could not reach the server. Check your connection and try again.');
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (e.g. a proxy error page); fall through to a generic message.
  }
  if (!res.ok) {
    const msg = body && typeof body.error === 'string' && body.error;
    throw new Error(msg || `Search failed (HTTP ${res.status}). Please try again.`);
  }
  if (!body || typeof body !== 'object') throw new Error('The server sent an unreadable response.');
  return body;
}

// ---------------------------------------------------------------- rendering

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

// Only http(s) (or same-origin relative) URLs may become src/href values, so a
// "javascript:" URL in the data can never end up clickable.
function isSafeURL(value) {
  try {
    const u = new URL(value, location.href);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

// Cut long descriptions in JS as well as clamping them in CSS: the clamp
// handles layout, the cut keeps the DOM (and screen-reader output) short.
function truncate(text) {
  const chars = Array.from(String(text).trim());
  if (chars.length <= DESCRIPTION_MAX) return chars.join('');
  const cut = chars.slice(0, DESCRIPTION_MAX).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space > DESCRIPTION_MAX * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

// withMarks fills node with text, wrapping the highlighted ranges (code point offsets from
// the API) in <mark>; every piece is inserted as text, never as HTML.
function withMarks(node, text, ranges) {
  const chars = Array.from(String(text));
  let at = 0;
  for (const r of Array.isArray(ranges) ? ranges : []) {
    const [start, end] = r;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < at || end > chars.length || end <= start) continue;
    node.append(document.createTextNode(chars.slice(at, start).join('')));
    node.append(el('mark', '', chars.slice(start, end).join('')));
    at = end;
  }
  node.append(document.createTextNode(chars.slice(at).join('')));
  return node;
}

function renderItem(item) {
  const type = TYPE_LABELS.has(item.type) ? item.type : 'other';
  const li = el('li', `result result-${type}`);
  li.dataset.id = String(item.id ?? '');
  li.dataset.type = String(item.type ?? '');

  if (item.image_url && isSafeURL(item.image_url)) {
    const img = el('img', 'thumb');
    img.src = item.image_url;
    img.alt = String(item.title ?? '');
    img.loading = 'lazy';
    img.decoding = 'async';
    img.width = 96;
    img.height = 128;
    li.append(img);
  }

  const body = el('div', 'result-body');
  const hl = item.highlights || {};
  body.append(item.title ? withMarks(el('h2', 'result-title'), item.title, hl.title) : el('h2', 'result-title', 'Untitled'));
  const meta = el('p', 'result-meta');
  meta.append(el('span', `badge badge-${type}`, TYPE_LABELS.get(type) || 'Item'));
  const year = Number(item.year);
  if (Number.isFinite(year) && year > 0) meta.append(el('span', 'result-year', year));
  body.append(meta);
  if (item.subtitle) body.append(withMarks(el('p', 'result-subtitle'), item.subtitle, hl.subtitle));
  if (item.description) body.append(el('p', 'result-description', truncate(item.description)));
  li.append(body);
  return li;
}

function setError(message) {
  els.error.textContent = message || '';
  els.error.hidden = !message;
}

// showView resets everything below the form; callers then fill in their part.
function showView({ hint = false, empty = false, status = '' } = {}) {
  els.results.replaceChildren();
  els.hint.hidden = !hint;
  els.empty.hidden = !empty;
  els.pager.hidden = true;
  els.status.textContent = status;
}

function renderPager(state, total, count) {
  if (total === 0) return;
  const start = (state.page - 1) * PAGE_SIZE;
  els.range.textContent = count
    ? `Showing ${start + 1}–${start + count} of ${total}`
    : `Page ${state.page} is past the last of ${total} results`;
  const focused = document.activeElement;
  els.prev.disabled = state.page <= 1;
  els.next.disabled = start + count >= total;
  els.pager.hidden = false;
  // A disabled button drops keyboard focus to <body>; hand it to the other one.
  if (focused === els.next && els.next.disabled && !els.prev.disabled) els.prev.focus();
  if (focused === els.prev && els.prev.disabled && !els.next.disabled) els.next.focus();
}

function renderResults(state, data) {
  const items = Array.isArray(data.results) ? data.results : [];
  const total = Math.max(0, Number(data.total) || 0);
  const noun = total === 1 ? 'result' : 'results';
  showView({ empty: total === 0, status: `${total} ${noun} for “${state.q}”` });
  els.results.append(...items.map(renderItem));
  renderPager(state, total, items.length);
}

// ---------------------------------------------------------------- searching

// run shows the results for state, unless a newer search starts meanwhile.
async function run(state) {
  current = state;
  clearTimeout(debounceTimer);
  controller?.abort();
  controller = null;
  const seq = ++latestSeq;
  setError('');

  if (!state.q) {
    els.results.removeAttribute('aria-busy');
    showView({ hint: true });
    return;
  }

  controller = new AbortController();
  els.results.setAttribute('aria-busy', 'true');
  try {
    const data = await fetchJSON(searchURL(state), controller.signal);
    if (seq !== latestSeq) return;
    renderResults(state, data);
  } catch (err) {
    if (seq !== latestSeq || err.name === 'AbortError') return;
    showView();
    setError(err.message);
  } finally {
    if (seq === latestSeq) els.results.removeAttribute('aria-busy');
  }
}

// navigate records state in the URL and runs it.
function navigate(state, push) {
  writeState(state, push);
  return run(state);
}

async function goToPage(page) {
  typingEntry = false;
  await navigate({ ...current, page }, true);
  // Keep focus on the pager button, but bring the new first result into view.
  els.form.scrollIntoView({ block: 'start' });
}

// ---------------------------------------------------------------- wiring

els.q.addEventListener('input', () => {
  clearTimeout(debounceTimer);
  debounceTimer = setTimeout(() => {
    navigate(formState(), !typingEntry);
    typingEntry = true;
  }, DEBOUNCE_MS);
});

els.form.addEventListener('submit', (event) => {
  event.preventDefault();
  // If typing already made a history entry for this search, reuse it.
  navigate(formState(), !typingEntry);
  typingEntry = false;
});

els.type.addEventListener('change', () => {
  typingEntry = false;
  navigate(formState(), true);
});

els.prev.addEventListener('click', () => goToPage(Math.max(1, current.page - 1)));
els.next.addEventListener('click', () => goToPage(current.page + 1));

window.addEventListener('popstate', () => {
  typingEntry = false;
  const state = readState();
  syncForm(state);
  run(state);
});

// The Temporal UI address depends on the deployment, so the API supplies it.
// The link stays hidden unless a usable http(s) URL arrives.
async function loadConfig() {
  try {
    const cfg = await fetchJSON('/api/config');
    const url = cfg.temporal_ui_url;
    if (typeof url === 'string' && url && isSafeURL(url)) {
      els.temporal.href = url;
      els.temporal.hidden = false;
    }
  } catch {
    els.temporal.hidden = true;
  }
}

// Start from the URL so shared links and reloads reproduce the search.
const initial = readState();
syncForm(initial);
writeState(initial, false);
run(initial);
loadConfig();
