// Pure helpers: no DOM access, so they can be unit-tested under Node
// (frontend/embed_test.go does) and shared by every page.

// A Map, not an object literal, so "toString" etc. are never valid types.
export const TYPE_LABELS = new Map([['movie', 'Movie'], ['artwork', 'Artwork']]);
export const TYPE_PLURALS = new Map([['movie', 'Movies'], ['artwork', 'Artworks']]);

// The repeatable search filters (OR within one, AND across them).
export const FILTER_FACETS = ['genre', 'medium', 'nationality'];
export const FACET_LABELS = new Map([
  ['type', 'Type'],
  ['decade', 'Decade'],
  ['genre', 'Genre'],
  ['medium', 'Medium'],
  ['nationality', 'Nationality'],
]);
export const SEARCH_FACETS = ['type', 'decade', ...FILTER_FACETS];

// /api/search rejects years outside this range.
export const MIN_YEAR = 1800;
export const MAX_YEAR = 2100;
// /api/search rejects larger offsets.
export const MAX_OFFSET = 10000;

// Only http(s) (or same-origin relative) URLs may become src/href values, so a
// "javascript:" URL in the data can never end up clickable.
export function isSafeURL(value, base = globalThis.location?.href) {
  if (typeof value !== 'string' || value.trim() === '') return false;
  try {
    const u = new URL(value, base);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

// truncate cuts long text at a word boundary. Done in JS as well as by a CSS
// clamp: the clamp handles layout, the cut keeps the DOM (and screen-reader
// output) short.
export function truncate(text, max = 200) {
  const chars = Array.from(String(text ?? '').trim());
  if (chars.length <= max) return chars.join('');
  const cut = chars.slice(0, max).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

// markSegments splits text into [{text, mark}] pieces from highlight ranges
// [start, end) in code points; malformed or overlapping ranges are skipped.
export function markSegments(text, ranges) {
  const chars = Array.from(String(text ?? ''));
  const out = [];
  let at = 0;
  for (const r of Array.isArray(ranges) ? ranges : []) {
    if (!Array.isArray(r)) continue;
    const [start, end] = r;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < at || end > chars.length || end <= start) continue;
    if (start > at) out.push({ text: chars.slice(at, start).join(''), mark: false });
    out.push({ text: chars.slice(start, end).join(''), mark: true });
    at = end;
  }
  if (at < chars.length || out.length === 0) out.push({ text: chars.slice(at).join(''), mark: false });
  return out;
}

// ---------------------------------------------------------------- routing

// parseHash splits a location.hash ("#/topics/3?page=2") into a normalized
// path ("/topics/3"), its decoded segments and the query parameters.
export function parseHash(hash) {
  let h = String(hash ?? '');
  if (h.startsWith('#')) h = h.slice(1);
  const qi = h.indexOf('?');
  const rawPath = qi >= 0 ? h.slice(0, qi) : h;
  const query = new URLSearchParams(qi >= 0 ? h.slice(qi + 1) : '');
  const segments = [];
  for (const s of rawPath.split('/')) {
    if (s === '') continue;
    try {
      segments.push(decodeURIComponent(s));
    } catch {
      segments.push(s);
    }
  }
  const path = `/${segments.map(encodeURIComponent).join('/')}`;
  return { path, segments, query };
}

// hashFor builds "#/a/b?x=1" from path segments and query parameters.
export function hashFor(segments, query) {
  const path = `/${segments.map((s) => encodeURIComponent(String(s))).join('/')}`;
  const qs = query ? new URLSearchParams(query).toString() : '';
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export function itemHash(id) {
  return hashFor(['item', String(id ?? '')]);
}

export function positiveInt(value, fallback = 1) {
  const n = Number.parseInt(String(value ?? ''), 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

// ---------------------------------------------------------------- search state

// decadeRange maps a decade facet value ("1990s") to the years it covers.
export function decadeRange(value) {
  const m = /^(-?\d{1,4})0s$/.exec(String(value ?? '').trim());
  if (!m) return null;
  const from = Number(m[1]) * 10;
  return { from, to: from + 9 };
}

// decadeFilterable reports whether /api/search accepts the decade's years.
export function decadeFilterable(value) {
  const r = decadeRange(value);
  return r !== null && r.from >= MIN_YEAR && r.to <= MAX_YEAR;
}

// decadeOf is the decade a year range is exactly, or "".
export function decadeOf(yearFrom, yearTo) {
  if (!yearFrom || !yearTo || yearFrom % 10 !== 0 || yearTo !== yearFrom + 9) return '';
  return `${yearFrom}s`;
}

function yearParam(v) {
  const n = Number.parseInt(String(v ?? ''), 10);
  return Number.isInteger(n) && n >= MIN_YEAR && n <= MAX_YEAR ? n : 0;
}

// searchStateFrom reads a search from URL parameters, dropping invalid values.
export function searchStateFrom(params) {
  const p = params instanceof URLSearchParams ? params : new URLSearchParams(params ?? '');
  const type = p.get('type') || '';
  const state = {
    q: (p.get('q') || '').trim(),
    type: TYPE_LABELS.has(type) ? type : '',
    page: positiveInt(p.get('page'), 1),
    yearFrom: yearParam(p.get('year_from')),
    yearTo: yearParam(p.get('year_to')),
    filters: {},
  };
  if (state.yearFrom && state.yearTo && state.yearFrom > state.yearTo) {
    state.yearFrom = 0;
    state.yearTo = 0;
  }
  for (const f of FILTER_FACETS) {
    const vals = [];
    for (const v of p.getAll(f)) {
      const t = v.trim();
      if (t && t.length <= 100 && !vals.includes(t) && vals.length < 20) vals.push(t);
    }
    state.filters[f] = vals;
  }
  return state;
}

// searchParamsOf is the URL (hash) form of a search; page 1 is left out.
export function searchParamsOf(state) {
  const p = new URLSearchParams();
  if (state.q) p.set('q', state.q);
  if (state.type) p.set('type', state.type);
  if (state.yearFrom) p.set('year_from', String(state.yearFrom));
  if (state.yearTo) p.set('year_to', String(state.yearTo));
  for (const f of FILTER_FACETS) {
    for (const v of state.filters?.[f] ?? []) p.append(f, v);
  }
  if (state.q && state.page > 1) p.set('page', String(state.page));
  return p;
}

export function searchKey(state) {
  return searchParamsOf(state).toString();
}

export function activeFilterCount(state) {
  let n = state.yearFrom || state.yearTo ? 1 : 0;
  for (const f of FILTER_FACETS) n += state.filters?.[f]?.length ?? 0;
  return n;
}

// searchAPIURL is the /api/search request for a search state.
export function searchAPIURL(state, pageSize) {
  const p = new URLSearchParams({ q: state.q });
  if (state.type) p.set('type', state.type);
  p.set('limit', String(pageSize));
  p.set('offset', String(Math.min(MAX_OFFSET, (state.page - 1) * pageSize)));
  if (state.yearFrom) p.set('year_from', String(state.yearFrom));
  if (state.yearTo) p.set('year_to', String(state.yearTo));
  for (const f of FILTER_FACETS) {
    for (const v of state.filters?.[f] ?? []) p.append(f, v);
  }
  p.set('facets', SEARCH_FACETS.join(','));
  return `/api/search?${p}`;
}

// ---------------------------------------------------------------- time series

// alignUp rounds a time in ms up to a multiple of stepMs.
export function alignUp(ms, stepMs) {
  return Math.ceil(ms / stepMs) * stepMs;
}

// isoSeconds formats a time as RFC 3339 in UTC without fractional seconds.
export function isoSeconds(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// bucketTrend spreads trend points over `slots` windows of windowMs starting at
// fromMs; missing windows are 0 and points outside the range are dropped.
// total is the sum of `total` over the points that were placed.
export function bucketTrend(points, fromMs, slots, windowMs) {
  const values = new Array(slots).fill(0);
  const byType = new Map();
  let total = 0;
  let drawn = 0;
  for (const p of Array.isArray(points) ? points : []) {
    const t = Date.parse(p?.t);
    const n = Number(p?.total);
    if (!Number.isFinite(t) || !Number.isFinite(n) || n < 0) continue;
    const i = Math.floor((t - fromMs) / windowMs);
    if (i < 0 || i >= slots) continue;
    values[i] += n;
    total += n;
    drawn++;
    if (p.counts && typeof p.counts === 'object') {
      for (const [type, c] of Object.entries(p.counts)) {
        const v = Number(c);
        if (Number.isFinite(v) && v > 0) byType.set(type, (byType.get(type) ?? 0) + v);
      }
    }
  }
  return { values, total, byType, drawn };
}

// sumGroups adds consecutive values in groups of size (e.g. 5 s windows into minutes).
export function sumGroups(values, size) {
  const out = [];
  for (let i = 0; i < values.length; i += size) {
    out.push(values.slice(i, i + size).reduce((a, b) => a + b, 0));
  }
  return out;
}

// dayRange lists the UTC days from `from` (inclusive) to `to` (exclusive), "YYYY-MM-DD".
export function dayRange(from, to, maxDays = 400) {
  const out = [];
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (!Number.isFinite(start) || !Number.isFinite(end)) return out;
  for (let t = start; t < end && out.length < maxDays; t += 86400000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

// dailyTotals sums per-country day counts into one total per day of the range.
export function dailyTotals(data) {
  const days = Array.isArray(data?.days) ? data.days : [];
  const totals = new Map(dayRange(data?.from, data?.to).map((d) => [d, 0]));
  for (const d of days) {
    const n = Number(d?.count);
    if (typeof d?.day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(d.day) || !Number.isFinite(n)) continue;
    totals.set(d.day, (totals.get(d.day) ?? 0) + n);
  }
  return [...totals.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

// ---------------------------------------------------------------- formatting

const numberFormat = new Intl.NumberFormat('en');

export function formatCount(n) {
  const v = Number(n);
  return Number.isFinite(v) ? numberFormat.format(v) : '0';
}

export function plural(n, one, many = `${one}s`) {
  return `${formatCount(n)} ${Number(n) === 1 ? one : many}`;
}

const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const RELATIVE_UNITS = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

// relativeTime formats a time relative to now: "5 minutes ago", "in 2 hours".
export function relativeTime(value, now = Date.now()) {
  const t = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(t)) return '';
  const secs = Math.round((t - now) / 1000);
  if (Math.abs(secs) < 10) return 'just now';
  for (const [unit, size] of RELATIVE_UNITS) {
    if (Math.abs(secs) >= size || unit === 'second') {
      return relativeFormat.format(Math.trunc(secs / size), unit);
    }
  }
  return '';
}

// formatDuration formats milliseconds as "850 ms", "12.3 s", "4 min 5 s", "2 h 3 min".
export function formatDuration(ms) {
  const v = Number(ms);
  if (!Number.isFinite(v) || v < 0) return '';
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60000) return `${(v / 1000).toFixed(1)} s`;
  const s = Math.round(v / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// windowLabel turns a Go duration ("5m0s", "1h0m0s") into words for "in the
// last …": "5 minutes", "hour".
export function windowLabel(value) {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(String(value ?? ''));
  if (!m || !(m[1] || m[2] || m[3])) return String(value ?? '');
  const secs = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  const unit = (n, one) => (n === 1 ? one : plural(n, one));
  if (secs % 86400 === 0 && secs >= 2 * 86400) return unit(secs / 86400, 'day');
  if (secs % 3600 === 0 && secs >= 3600) return unit(secs / 3600, 'hour');
  if (secs % 60 === 0 && secs >= 60) return unit(secs / 60, 'minute');
  return unit(secs, 'second');
}

// ---------------------------------------------------------------- pipeline

export const PARTITION_STATUSES = ['materialized', 'failed', 'stale', 'missing'];

// temporalRunURL links a workflow run in the Temporal Web UI, or returns ""
// when the UI address is unknown or unsafe.
export function temporalRunURL(config, workflowId, runId) {
  const base = String(config?.temporal_ui_url ?? '').replace(/\/+$/, '');
  if (!base || !workflowId || !isSafeURL(base)) return '';
  const ns = String(config?.temporal_namespace || 'default');
  const run = runId ? `/${encodeURIComponent(String(runId))}` : '';
  return `${base}/namespaces/${encodeURIComponent(ns)}/workflows/${encodeURIComponent(String(workflowId))}${run}/history`;
}

// newestFirst orders partitions by key, newest (largest) first; the
// unpartitioned "" sorts last.
export function newestFirst(partitions) {
  return [...(Array.isArray(partitions) ? partitions : [])].sort((a, b) => {
    const x = String(a?.partition ?? '');
    const y = String(b?.partition ?? '');
    return x < y ? 1 : x > y ? -1 : 0;
  });
}

// ASSET_STATES are the states of an asset as the lineage graph colours it,
// worst first, with their legend labels.
export const ASSET_STATES = [
  ['failed', 'Failed'],
  ['stale', 'Stale'],
  ['missing', 'Missing partitions'],
  ['materialized', 'Materialized'],
  ['never', 'Never built'],
];

// assetState sums up an asset of GET /api/assets for the lineage graph: its
// worst partition status ("never" when nothing was ever recorded), a short
// text of its partition counts, and the partition total.
export function assetState(asset) {
  const raw = asset?.partition_counts && typeof asset.partition_counts === 'object' ? asset.partition_counts : {};
  const n = (s) => (Number(raw[s]) > 0 ? Math.floor(Number(raw[s])) : 0);
  const counts = Object.fromEntries(PARTITION_STATUSES.map((s) => [s, n(s)]));
  const total = PARTITION_STATUSES.reduce((a, s) => a + counts[s], 0);
  const built = counts.materialized + counts.stale;
  let status = 'never';
  if (counts.failed) status = 'failed';
  else if (counts.stale) status = 'stale';
  else if (counts.missing && (built || asset?.last_success)) status = 'missing';
  else if (counts.materialized) status = 'materialized';
  let text;
  if (!asset?.partitioning) {
    text = status === 'never' ? 'never built' : status === 'missing' ? 'missing' : status;
  } else if (!total) {
    text = 'no partitions yet';
  } else {
    const parts = [`${formatCount(counts.materialized)}/${formatCount(total)} ok`];
    for (const s of ['failed', 'stale', 'missing']) if (counts[s]) parts.push(`${formatCount(counts[s])} ${s}`);
    text = parts.join(' · ');
  }
  return { status, text, total, counts };
}

// lineageLayout places assets ({name, upstreams}) in columns by layer: an
// asset's layer is the longest path to it from a source (an asset with no
// upstream in the graph). An edge that skips layers passes through a waypoint
// in each column between, which takes a row there like an asset, so it is
// never drawn behind another asset. Within a column, assets and waypoints are
// ordered by the mean row of what leads into them (fewer crossing edges), then
// by input order. Upstreams outside the graph and edges that would close a
// cycle are left out.
//
// It returns columns (the asset names per column), slots (per column, the
// names and waypoint ids in row order), row (name or waypoint id → row),
// layer (name → column), edges ([from, to] pairs) and routes (edge key
// "from\u2192to" → its waypoint ids, left to right).
export function lineageLayout(assets) {
  const list = (Array.isArray(assets) ? assets : []).filter((a) => typeof a?.name === 'string' && a.name);
  const byName = new Map();
  for (const a of list) if (!byName.has(a.name)) byName.set(a.name, a);
  const order = new Map([...byName.keys()].map((n, i) => [n, i]));
  const ups = (name) => [...new Set((Array.isArray(byName.get(name).upstreams) ? byName.get(name).upstreams : [])
    .filter((u) => byName.has(u) && u !== name))];
  const layer = new Map();
  const visiting = new Set();
  const edges = [];
  const place = (name) => {
    if (layer.has(name)) return layer.get(name);
    visiting.add(name);
    let l = 0;
    for (const u of ups(name)) {
      if (visiting.has(u)) continue; // a cycle: not drawn
      l = Math.max(l, place(u) + 1);
      edges.push([u, name]);
    }
    visiting.delete(name);
    layer.set(name, l);
    return l;
  };
  for (const name of byName.keys()) place(name);
  edges.sort((a, b) => (order.get(a[1]) - order.get(b[1])) || (order.get(a[0]) - order.get(b[0])));

  // Slots: the assets, then a waypoint per skipped column of each long edge.
  const slots = [];
  const tie = new Map(); // slot → tie-break order
  const preds = new Map(); // slot → the slots leading into it
  for (const name of byName.keys()) {
    (slots[layer.get(name)] ??= []).push(name);
    tie.set(name, order.get(name));
    preds.set(name, []);
  }
  const routes = new Map();
  edges.forEach(([from, to], i) => {
    let prev = from;
    const via = [];
    for (let c = layer.get(from) + 1; c < layer.get(to); c++) {
      const id = `\u0000${from}\u2192${to}@${c}`;
      slots[c].push(id);
      tie.set(id, byName.size + i);
      preds.set(id, [prev]);
      via.push(id);
      prev = id;
    }
    preds.get(to).push(prev);
    routes.set(`${from}\u2192${to}`, via);
  });
  const row = new Map();
  for (let c = 0; c < slots.length; c++) {
    const col = slots[c] ?? [];
    if (c > 0) {
      const weight = new Map(col.map((n) => {
        const rows = preds.get(n).map((p) => row.get(p)).filter((r) => r !== undefined);
        return [n, rows.length ? rows.reduce((a, r) => a + r, 0) / rows.length : Infinity];
      }));
      col.sort((a, b) => (weight.get(a) - weight.get(b)) || (tie.get(a) - tie.get(b)));
    }
    col.forEach((n, i) => row.set(n, i));
    slots[c] = col;
  }
  const columns = slots.map((col) => col.filter((n) => byName.has(n)));
  return { columns, slots, layer, row, edges, routes };
}

// RUN_STATUSES are the run statuses of GET /api/runs with their badge class.
export const RUN_STATUSES = new Map([
  ['Running', 'running'],
  ['Completed', 'materialized'],
  ['Failed', 'failed'],
  ['TimedOut', 'failed'],
  ['Terminated', 'failed'],
  ['Canceled', 'missing'],
  ['ContinuedAsNew', 'missing'],
]);

// describeTrigger explains a run's trigger ("manual:web:model.similar",
// "eager:catalog.items@v3", "schedule:similarity-nightly") in words.
export function describeTrigger(trigger) {
  const t = String(trigger ?? '');
  if (!t) return 'Started without a recorded reason';
  const [kind, ...rest] = t.split(':');
  const detail = rest.join(':');
  switch (kind) {
    case 'manual': {
      const [source, ...what] = detail.split(':');
      const from = { web: 'the web app', cli: 'the command line', api: 'the admin API' }[source] ?? (source || 'hand');
      return `Started by hand from ${from}${what.length ? ` for ${what.join(':')}` : ''}`;
    }
    case 'schedule': return `Started by schedule ${detail}`;
    case 'eager': return `Started because upstream ${detail} changed`;
    case 'on_cron': return `Started by the cron policy ${detail}`.trim();
    case 'missing': return `Started to fill missing partitions ${detail}`.trim();
    case 'freshness': return `Started because ${detail || 'the asset'} was overdue`;
    case 'sensor': return `Started by sensor ${detail}`;
    case 'backfill': return `Started by backfill ${detail}`;
    default: return `Started by ${t}`;
  }
}

// runDuration is how long a run took (or has run, until now), as text.
export function runDuration(run, now = Date.now()) {
  const start = Date.parse(run?.started_at);
  const end = run?.closed_at ? Date.parse(run.closed_at) : now;
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? formatDuration(end - start) : '';
}

// ---------------------------------------------------------------- map

// circleRadius scales a count to a radius whose area is proportional to it.
export function circleRadius(count, max, maxRadius = 12, minRadius = 1.2) {
  const c = Number(count);
  const m = Number(max);
  if (!(c > 0) || !(m > 0)) return 0;
  return Math.max(minRadius, maxRadius * Math.sqrt(Math.min(c, m) / m));
}

// project maps longitude/latitude into the map's 360×180 viewBox.
export function project(lat, lon) {
  return { x: Number(lon) + 180, y: 90 - Number(lat) };
}
