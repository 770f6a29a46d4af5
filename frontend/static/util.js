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
