// Item page (#/item/ID): details, a live popularity chart polled every 5 s,
// similar items and the item's topics.

import { HTTPError, fetchJSON, isAbort, poll } from './api.js';
import { columnChart } from './charts.js';
import {
  el, externalLink, heading, image, itemMeta, note, routeLink, section, setError, setStatus, yearText,
} from './dom.js';
import { lastSearchHash } from './search.js';
import {
  alignUp, bucketTrend, formatCount, hashFor, isoSeconds, itemHash, plural, sumGroups, TYPE_LABELS,
} from './util.js';

const TREND_SPAN_MS = 15 * 60 * 1000;
const TREND_POLL_MS = 5000;
const DEFAULT_WINDOW_MS = 5000;
// Collection paths of the per-type endpoints.
const COLLECTIONS = new Map([['movie', 'movies'], ['artwork', 'artworks']]);

function clock(ms, seconds = true) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}) });
}

export function mount({ root, segments, signal, setTitle }) {
  const id = segments[1];
  setTitle('Item');
  const back = el('p', 'back-link');
  back.append(routeLink(lastSearchHash(), '← Back to search'));
  const title = heading(2, 'Loading item…');
  const body = el('div', 'item-page');
  root.append(back, title, body);
  setStatus('Loading item…');
  root.setAttribute('aria-busy', 'true');

  (async () => {
    let item;
    try {
      item = await fetchJSON(`/api/items/${encodeURIComponent(id)}`, signal);
    } catch (err) {
      if (isAbort(err)) return;
      root.removeAttribute('aria-busy');
      title.id = 'item-title';
      setStatus('');
      if (err instanceof HTTPError && err.status === 404) {
        setTitle('Item not found');
        title.textContent = 'Item not found';
        body.append(el('p', 'empty', err.message || `There is no item with id ${id}.`));
      } else {
        setTitle('Item unavailable');
        title.textContent = 'Could not load this item';
        setError(err.message);
      }
      return;
    }
    root.removeAttribute('aria-busy');
    renderItem(item, { title, body, setTitle });
    setStatus(`Loaded ${item.title || 'item'}`);
    body.append(trendSection(id, signal));
    const collection = COLLECTIONS.get(item.type);
    if (collection) {
      body.append(similarSection(collection, id, signal), topicsSection(collection, id, signal));
    }
  })();

  return {};
}

function renderItem(item, { title, body, setTitle }) {
  title.id = 'item-title';
  title.textContent = item.title || 'Untitled';
  setTitle(item.title || 'Untitled');
  const card = el('article', 'item-detail');
  card.setAttribute('aria-labelledby', 'item-title');
  const img = image(item.image_url, `Image of ${item.title || 'the item'}`, 'item-image', 240, 320);
  if (img) card.append(img);
  const info = el('div', 'item-info');
  info.append(itemMeta({ type: item.type, year: item.year }));
  if (item.subtitle) info.append(el('p', 'item-subtitle', item.subtitle));
  if (item.description) info.append(el('p', 'item-description', item.description));
  const source = externalLink(item.url, 'View the source page', 'item-source');
  if (source) {
    const p = el('p');
    p.append(source);
    info.append(p);
  }
  card.append(info);
  body.append(card);
}

// ---------------------------------------------------------------- live trend

function trendSection(id, signal) {
  const s = section('Live popularity', 'trend');
  s.append(note('Views, collections and other events per 5 seconds over the last 15 minutes; updates every 5 seconds.', 'note small'));
  const chart = columnChart({ id: 'trend-chart', columns: ['Minute', 'Events'], tableSummary: 'Show events per minute as a table' });
  chart.node.dataset.total = '0';
  chart.node.setAttribute('aria-busy', 'true');
  const problem = el('p', 'inline-error');
  problem.hidden = true;
  s.append(chart.node, problem);

  poll(async (tick) => {
    const to = alignUp(Date.now(), DEFAULT_WINDOW_MS);
    const from = to - TREND_SPAN_MS;
    const url = `/api/items/${encodeURIComponent(id)}/trend?from=${isoSeconds(from)}&to=${isoSeconds(to)}`;
    let data;
    try {
      data = await fetchJSON(url, tick);
    } catch (err) {
      if (isAbort(err)) throw err;
      problem.textContent = `Live data is unavailable: ${err.message}`;
      problem.hidden = false;
      return;
    }
    problem.hidden = true;
    const ws = Number(data.window_seconds);
    const windowMs = Number.isFinite(ws) && ws > 0 ? ws * 1000 : DEFAULT_WINDOW_MS;
    const slots = Math.max(1, Math.round(TREND_SPAN_MS / windowMs));
    const b = bucketTrend(data.points, from, slots, windowMs);
    drawTrend(chart, b, from, windowMs);
  }, TREND_POLL_MS, signal);
  return s;
}

function drawTrend(chart, b, from, windowMs) {
  const { values, total, byType } = b;
  const titles = values.map((v, i) => `${clock(from + i * windowMs)}: ${plural(v, 'event')}`);
  const max = Math.max(0, ...values);
  const peakAt = values.indexOf(max);
  const perMinute = Math.max(1, Math.round(60000 / windowMs));
  const rows = sumGroups(values, perMinute).map((v, i) => [clock(from + i * perMinute * windowMs, false), v]);
  const breakdown = [...byType.entries()].sort((x, y) => y[1] - x[1]).map(([t, n]) => `${formatCount(n)} ${t}`);
  const caption = `${plural(total, 'event')} in the last 15 minutes${breakdown.length ? ` (${breakdown.join(', ')})` : ''}`;
  chart.update({
    values,
    titles,
    rows,
    captionText: caption,
    axisLabels: [clock(from, false), clock(from + (values.length / 2) * windowMs, false), 'now'],
    ariaLabel: total > 0
      ? `Bar chart of events per ${windowMs / 1000} seconds over the last 15 minutes: ${plural(total, 'event')} in total, at most ${formatCount(max)} at ${clock(from + peakAt * windowMs)}.`
      : 'Bar chart of events over the last 15 minutes: no events yet.',
  });
  chart.node.dataset.total = String(total);
  chart.node.removeAttribute('aria-busy');
}

// ---------------------------------------------------------------- similar & topics

function similarSection(collection, id, signal) {
  const s = section('Similar items', 'similar');
  const list = el('ol', 'mini-list');
  list.id = 'similar';
  list.setAttribute('aria-labelledby', 'similar-heading');
  const msg = note('Loading similar items…');
  s.append(msg, list);
  (async () => {
    try {
      const data = await fetchJSON(`/api/${collection}/${encodeURIComponent(id)}/similar`, signal);
      const similar = Array.isArray(data.similar) ? data.similar : [];
      list.append(...similar.map((it) => {
        const score = Number(it.score);
        const extra = Number.isFinite(score) ? el('span', 'score', `similarity ${score.toFixed(2)}`) : null;
        return miniItem(it, extra);
      }));
      msg.textContent = data.note || (similar.length ? '' : 'No similar items yet.');
      msg.hidden = !msg.textContent;
    } catch (err) {
      if (isAbort(err)) return;
      msg.textContent = `Similar items are unavailable: ${err.message}`;
      msg.className = 'inline-error';
    }
  })();
  return s;
}

function topicsSection(collection, id, signal) {
  const s = section('Topics', 'item-topics');
  const list = el('ul', 'topic-chips');
  list.id = 'item-topics';
  list.setAttribute('aria-labelledby', 'item-topics-heading');
  const msg = note('Loading topics…');
  s.append(msg, list);
  (async () => {
    try {
      const data = await fetchJSON(`/api/${collection}/${encodeURIComponent(id)}/topics`, signal);
      const topics = Array.isArray(data.topics) ? data.topics : [];
      list.append(...topics.filter((t) => Number.isInteger(t?.topic) && t.topic >= 0).map((t) => {
        const li = el('li', 'topic-chip');
        const words = Array.isArray(t.words) ? t.words.slice(0, 5).map(String) : [];
        li.append(routeLink(hashFor(['topics', t.topic]), `Topic ${t.topic}${words.length ? `: ${words.join(', ')}` : ''}`));
        const w = Number(t.weight);
        if (Number.isFinite(w)) li.append(el('span', 'topic-weight', `${Math.round(w * 100)}%`));
        return li;
      }));
      msg.textContent = data.note || (topics.length ? '' : 'No topics for this item yet.');
      msg.hidden = !msg.textContent;
    } catch (err) {
      if (isAbort(err)) return;
      msg.textContent = `Topics are unavailable: ${err.message}`;
      msg.className = 'inline-error';
    }
  })();
  return s;
}

// miniItem is a compact linked item row used by several pages.
export function miniItem(it, extra) {
  const li = el('li', 'mini-item');
  li.dataset.id = String(it.id ?? '');
  const a = routeLink(itemHash(it.id), it.title || 'Untitled', 'mini-title');
  li.append(a);
  const meta = el('span', 'mini-meta');
  const type = TYPE_LABELS.get(it.type);
  const bits = [type, yearText(it.year), it.subtitle].filter(Boolean);
  meta.textContent = bits.join(' · ');
  if (bits.length) li.append(meta);
  if (extra) li.append(extra);
  return li;
}
