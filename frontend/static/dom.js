// DOM helpers shared by the pages.
//
// Safety rule: text that comes from the API is only ever put into the DOM with
// textContent (or as an attribute value), never parsed as HTML. Links and
// images are only created here: setSafeHref/setSafeSrc refuse anything but
// http(s) URLs, and internal links must be "#/…" routes.

import { hashFor, isSafeURL, markSegments, RUN_STATUSES, TYPE_LABELS, formatCount, relativeTime } from './util.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

export const byId = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// svg creates an SVG element with attributes (values are set as attributes, never parsed).
export function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  return node;
}

// setRouteHref points a at a page of this app; hash must be a "#/…" route.
export function setRouteHref(a, hash) {
  a.href = String(hash).startsWith('#/') ? hash : '#/';
}

export function routeLink(hash, text, className) {
  const a = el('a', className, text);
  setRouteHref(a, hash);
  return a;
}

// svgRouteLink makes an SVG <a> to a page of this app (a "#/…" route), with attributes.
export function svgRouteLink(hash, attrs = {}) {
  const a = svg('a', attrs);
  a.setAttribute('href', String(hash).startsWith('#/') ? hash : '#/');
  return a;
}

// setSafeHref points a at url if it is http(s); it reports whether it did.
export function setSafeHref(a, url) {
  if (!isSafeURL(url)) {
    a.removeAttribute('href');
    return false;
  }
  a.href = url;
  return true;
}

// externalLink opens an http(s) URL from the API; it returns null for anything else.
export function externalLink(url, text, className) {
  const a = el('a', className, text);
  if (!setSafeHref(a, url)) return null;
  a.rel = 'noopener noreferrer';
  return a;
}

// image shows an http(s) image from the API; it returns null for anything else.
export function image(url, alt, className, width, height) {
  if (!isSafeURL(url)) return null;
  const img = el('img', className);
  img.src = url;
  img.alt = String(alt ?? '');
  img.loading = 'lazy';
  img.decoding = 'async';
  if (width) img.width = width;
  if (height) img.height = height;
  return img;
}

// withMarks fills node with text, wrapping the highlighted ranges (code point
// offsets from the API) in <mark>; every piece is inserted as text.
export function withMarks(node, text, ranges) {
  for (const seg of markSegments(text, ranges)) {
    node.append(seg.mark ? el('mark', '', seg.text) : document.createTextNode(seg.text));
  }
  return node;
}

export function typeBadge(type) {
  const known = TYPE_LABELS.has(type) ? type : 'other';
  return el('span', `badge badge-${known}`, TYPE_LABELS.get(type) || 'Item');
}

export function statusBadge(status) {
  const s = String(status ?? '');
  const known = ['materialized', 'failed', 'missing', 'stale'].includes(s) ? s : 'other';
  return el('span', `badge status-${known}`, s || 'unknown');
}

// assetLinks lists links to asset pages (#/pipeline/NAME), or says "none".
export function assetLinks(names) {
  const list = (Array.isArray(names) ? names : []).filter((n) => typeof n === 'string' && n);
  if (!list.length) return el('span', 'muted', 'none');
  const ul = el('ul', 'inline-list');
  for (const n of list) {
    const li = el('li');
    li.append(routeLink(hashFor(['pipeline', n]), n));
    ul.append(li);
  }
  return ul;
}

// runBadge shows a run status of GET /api/runs (Running, Completed, Failed …).
export function runBadge(status) {
  const s = String(status ?? '');
  const b = el('span', `badge status-${RUN_STATUSES.get(s) ?? 'other'}`, s || 'unknown');
  b.dataset.status = s;
  return b;
}

// timeAgo is a <time> showing a relative time, with the absolute time as a tooltip.
export function timeAgo(value) {
  const t = Date.parse(value);
  if (!Number.isFinite(t)) return el('span', 'muted', '—');
  const node = el('time', '', relativeTime(t));
  node.dateTime = new Date(t).toISOString();
  node.title = new Date(t).toLocaleString();
  return node;
}

export function yearText(year) {
  const y = Number(year);
  return Number.isFinite(y) && y > 0 ? String(y) : '';
}

// itemMeta is the "MOVIE · 1999 · Lana Wachowski" line of an item.
export function itemMeta(item, extra) {
  const meta = el('p', 'result-meta');
  meta.append(typeBadge(item.type));
  const year = yearText(item.year);
  if (year) meta.append(el('span', 'result-year', year));
  if (item.subtitle) meta.append(el('span', 'result-subtitle-inline', item.subtitle));
  if (extra) meta.append(extra);
  return meta;
}

// heading makes a page heading that can take focus after navigation.
export function heading(level, text, id) {
  const h = el(`h${level}`, 'page-title', text);
  h.tabIndex = -1;
  if (id) h.id = id;
  return h;
}

export function section(title, id) {
  const s = el('section', 'panel');
  const h = el('h3', 'panel-title', title);
  if (id) {
    h.id = `${id}-heading`;
    s.setAttribute('aria-labelledby', h.id);
  }
  s.append(h);
  return s;
}

export function note(text, className = 'note') {
  return el('p', className, text);
}

// dataTable makes an empty <table> with one header row: each column is a name, or
// [name, className]; every <th> has scope=col. It returns the table and its <tbody>.
export function dataTable(className, columns) {
  const table = el('table', className);
  const thead = el('thead');
  const tr = el('tr');
  for (const c of columns) {
    const [text, cls] = Array.isArray(c) ? c : [c, ''];
    const th = el('th', cls, text);
    th.scope = 'col';
    tr.append(th);
  }
  thead.append(tr);
  const tbody = el('tbody');
  table.append(thead, tbody);
  return { table, tbody };
}

// labelled wraps a control in a .field with a visible <label for>.
let fieldSeq = 0;
export function labelled(labelText, control) {
  if (!control.id) control.id = `field-${++fieldSeq}`;
  const wrap = el('div', 'field');
  const label = el('label', '', labelText);
  label.htmlFor = control.id;
  wrap.append(label, control);
  return wrap;
}

// selectOf builds a <select> from [value, text] pairs.
export function selectOf(id, options, value) {
  const s = el('select');
  s.id = id;
  s.name = id;
  for (const [v, text] of options) {
    const o = el('option', '', text);
    o.value = v;
    s.append(o);
  }
  s.value = value;
  if (s.value !== value && options.length) s.value = options[0][0];
  return s;
}

// keepFocus re-renders part of a page without losing keyboard focus: the
// focused element inside container is found again afterwards by keyOf.
export function keepFocus(container, render, keyOf = defaultFocusKey) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? keyOf(active) : '';
  render();
  if (!key) return;
  for (const node of container.querySelectorAll('a, button, input, select, summary')) {
    if (keyOf(node) === key) {
      node.focus({ preventScroll: true });
      return;
    }
  }
}

function defaultFocusKey(node) {
  if (node.dataset?.focusKey) return `k:${node.dataset.focusKey}`;
  if (node.id) return `id:${node.id}`;
  if (node.tagName === 'INPUT') return `in:${node.name}=${node.value}`;
  if (node.tagName === 'A') return `a:${node.getAttribute('href')}:${node.textContent}`;
  return '';
}

// ---------------------------------------------------------------- page status

// setStatus announces short progress messages (role=status, aria-live=polite).
export function setStatus(text) {
  const node = byId('status');
  if (node && node.textContent !== text) node.textContent = text || '';
}

// setError shows (or with no message hides) the page-level alert.
export function setError(message) {
  const node = byId('error');
  if (!node) return;
  node.textContent = message || '';
  node.hidden = !message;
}

// pager builds Previous/Next buttons with a range text; onPage(page) is called on click.
export function pager(label, onPage) {
  const nav = el('nav', 'pager');
  nav.setAttribute('aria-label', label);
  const prev = el('button', 'button', 'Previous');
  prev.type = 'button';
  const range = el('span', 'range');
  const next = el('button', 'button', 'Next');
  next.type = 'button';
  nav.append(prev, range, next);
  nav.hidden = true;
  let page = 1;
  prev.addEventListener('click', () => onPage(Math.max(1, page - 1)));
  next.addEventListener('click', () => onPage(page + 1));
  return {
    node: nav,
    // update shows items start+1..start+count of total on page p.
    update(p, pageSize, total, count, maxOffset = Infinity) {
      page = p;
      if (!total) {
        nav.hidden = true;
        return;
      }
      const start = (p - 1) * pageSize;
      range.textContent = count
        ? `Showing ${formatCount(start + 1)}–${formatCount(start + count)} of ${formatCount(total)}`
        : `Page ${p} is past the last of ${formatCount(total)}`;
      const focused = document.activeElement;
      prev.disabled = p <= 1;
      next.disabled = start + count >= total || start + pageSize > maxOffset;
      nav.hidden = prev.disabled && next.disabled && count > 0;
      // A disabled button drops keyboard focus to <body>; hand it to the other one.
      if (focused === next && next.disabled && !prev.disabled) prev.focus();
      if (focused === prev && prev.disabled && !next.disabled) next.focus();
    },
  };
}
