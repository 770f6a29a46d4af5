// Trending page (#/trending?window=1h&type=movie&terms=1m): the most active
// items and the most searched terms, refreshed every 10 s while shown.

import { fetchJSON, isAbort, poll } from './api.js';
import { barList } from './charts.js';
import { el, heading, labelled, note, section, selectOf, setError, setStatus } from './dom.js';
import { miniItem } from './item.js';
import { formatCount, hashFor, plural, windowLabel } from './util.js';

const REFRESH_MS = 10000;
const ITEM_WINDOWS = [['5m', 'Last 5 minutes'], ['1h', 'Last hour'], ['24h', 'Last 24 hours']];
const TYPES = [['', 'All types'], ['movie', 'Movies'], ['artwork', 'Artworks']];
const TERM_WINDOWS = [['1m', 'Last minute'], ['1h', 'Last hour']];

function pick(options, value, fallback) {
  return options.some(([v]) => v === value) ? value : fallback;
}

export function mount({ root, query, signal, setURL, setTitle }) {
  setTitle('Trending');
  const state = {
    window: pick(ITEM_WINDOWS, query.get('window'), '5m'),
    type: pick(TYPES, query.get('type') ?? '', ''),
    terms: pick(TERM_WINDOWS, query.get('terms'), '1h'),
  };
  const writeURL = () => {
    const q = new URLSearchParams();
    if (state.window !== '5m') q.set('window', state.window);
    if (state.type) q.set('type', state.type);
    if (state.terms !== '1h') q.set('terms', state.terms);
    setURL(hashFor(['trending'], q), false);
  };

  root.append(heading(2, 'Trending'), note(`What people view, collect and search for right now. Updates every ${REFRESH_MS / 1000} seconds.`));

  // ---- items
  const items = section('Most active items', 'trending-items');
  const controls = el('div', 'controls');
  const windowSelect = selectOf('trending-window', ITEM_WINDOWS, state.window);
  const typeSelect = selectOf('trending-type', TYPES, state.type);
  controls.append(labelled('Time window', windowSelect), labelled('Type', typeSelect));
  const list = el('ol', 'mini-list ranked');
  list.id = 'trending-items';
  list.setAttribute('aria-labelledby', 'trending-items-heading');
  const itemsNote = note('Loading…');
  items.append(controls, itemsNote, list);

  // ---- terms
  const terms = section('Trending search terms', 'trending-terms');
  const termControls = el('div', 'controls');
  const termSelect = selectOf('terms-window', TERM_WINDOWS, state.terms);
  termControls.append(labelled('Time window', termSelect));
  const chart = barList({ id: 'terms-chart', emptyText: 'No searches in this window yet.' });
  chart.node.dataset.total = '0';
  const tagsHeading = el('h4', 'subheading', 'Hashtags');
  tagsHeading.id = 'terms-tags-heading';
  const tags = el('ul', 'tag-list');
  tags.id = 'terms-tags';
  tags.setAttribute('aria-labelledby', tagsHeading.id);
  const tagsNote = note('No hashtags in this window yet.');
  tagsNote.hidden = true;
  const risingHeading = el('h4', 'subheading', 'Rising');
  risingHeading.id = 'terms-rising-heading';
  const rising = el('ol', 'mini-list');
  rising.id = 'terms-rising';
  rising.setAttribute('aria-labelledby', risingHeading.id);
  const risingNote = note('Nothing is rising against the previous window.');
  risingNote.hidden = true;
  const termsProblem = el('p', 'inline-error');
  termsProblem.hidden = true;
  terms.append(termControls, termsProblem, chart.node, tagsHeading, tagsNote, tags, risingHeading, risingNote, rising);

  const layout = el('div', 'two-col');
  layout.append(items, terms);
  root.append(layout);
  setStatus('Loading trending items…');

  let firstLoad = true;
  const itemsPoll = poll(async (tick) => {
    const p = new URLSearchParams({ window: state.window, limit: '10' });
    if (state.type) p.set('type', state.type);
    try {
      const data = await fetchJSON(`/api/trending?${p}`, tick);
      const rows = Array.isArray(data.items) ? data.items : [];
      list.replaceChildren(...rows.map((it) => miniItem(it, el('span', 'count-badge', plural(it.count, 'event')))));
      itemsNote.textContent = rows.length
        ? `Top ${rows.length} in the last ${windowLabel(data.window)}.`
        : `Nothing happened in the last ${windowLabel(data.window)}.`;
      itemsNote.className = 'note';
      if (firstLoad) setStatus(`${plural(rows.length, 'trending item')} loaded`);
      firstLoad = false;
      setError('');
    } catch (err) {
      if (isAbort(err)) throw err;
      itemsNote.textContent = `Trending items are unavailable: ${err.message}`;
      itemsNote.className = 'inline-error';
      if (firstLoad) setStatus('');
    }
  }, REFRESH_MS, signal);

  const termsPoll = poll(async (tick) => {
    try {
      const data = await fetchJSON(`/api/terms/trending?window=${encodeURIComponent(state.terms)}&limit=20`, tick);
      termsProblem.hidden = true;
      const rows = (Array.isArray(data.terms) ? data.terms : [])
        .filter((t) => typeof t?.term === 'string')
        .map((t) => ({ label: t.term, value: Number(t.count) || 0 }));
      const total = rows.reduce((a, r) => a + r.value, 0);
      const label = windowLabel(data.window || state.terms);
      chart.update({
        rows,
        ariaLabel: `Horizontal bar chart of the ${rows.length} most searched terms in the last ${label}`,
        captionText: rows.length ? `${plural(total, 'mention')} of these terms in searches and viewed titles in the last ${label}` : '',
      });
      chart.node.dataset.total = String(total);
      // Tags come as {tag, count}; accept {term, count} (the terms' shape) too.
      const tagRows = (Array.isArray(data.tags) ? data.tags : [])
        .map((t) => ({ name: typeof t?.tag === 'string' ? t.tag : t?.term, count: t?.count }))
        .filter((t) => typeof t.name === 'string' && t.name !== '');
      tags.replaceChildren(...tagRows.map((t) => {
        const li = el('li', 'tag');
        li.append(el('span', 'tag-name', t.name), el('span', 'tag-count', formatCount(t.count)));
        return li;
      }));
      tagsNote.hidden = tagRows.length > 0;
      // Rising: growth of this window (at its pace so far) against the whole previous one.
      const risingRows = (Array.isArray(data.rising) ? data.rising : [])
        .filter((t) => typeof t?.term === 'string' && t.term !== '');
      rising.replaceChildren(...risingRows.map((t) => {
        const li = el('li', 'rising-term');
        const prev = Number(t.previous) || 0;
        const detail = prev > 0
          ? `${formatCount(t.count)} now, ${formatCount(prev)} in the previous ${label}`
          : `${formatCount(t.count)} now, new since the previous ${label}`;
        li.append(el('span', 'tag-name', t.term), el('span', 'muted', ` — ${detail}`));
        return li;
      }));
      risingNote.hidden = risingRows.length > 0;
    } catch (err) {
      if (isAbort(err)) throw err;
      termsProblem.textContent = `Trending terms are unavailable: ${err.message}`;
      termsProblem.hidden = false;
    }
  }, REFRESH_MS, signal);

  windowSelect.addEventListener('change', () => {
    state.window = windowSelect.value;
    writeURL();
    itemsPoll.refresh();
  });
  typeSelect.addEventListener('change', () => {
    state.type = typeSelect.value;
    writeURL();
    itemsPoll.refresh();
  });
  termSelect.addEventListener('change', () => {
    state.terms = termSelect.value;
    writeURL();
    termsPoll.refresh();
  });
  return {};
}
