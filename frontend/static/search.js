// Search page (#/?q=…): search-as-you-type with highlights, facet filters and
// paging. The search lives in the hash query, so reloads, Back and shared links
// reproduce it. Its markup is static in index.html.

import { fetchJSON, isAbort } from './api.js';
import { byId, el, image, itemMeta, keepFocus, routeLink, setError, setStatus, withMarks } from './dom.js';
import {
  FACET_LABELS, FILTER_FACETS, MAX_OFFSET, TYPE_PLURALS, activeFilterCount, decadeFilterable, decadeOf,
  decadeRange, formatCount, hashFor, itemHash, searchAPIURL, searchKey, searchParamsOf, searchStateFrom, truncate,
} from './util.js';

const PAGE_SIZE = 20;
const DEBOUNCE_MS = 200;

const els = {
  view: byId('view-search'),
  form: byId('search-form'),
  q: byId('q'),
  type: byId('type'),
  hint: byId('hint'),
  empty: byId('empty'),
  corrected: byId('corrected'),
  results: byId('results'),
  pager: byId('pager'),
  prev: byId('prev'),
  next: byId('next'),
  range: byId('range'),
  facetsPanel: byId('facets-panel'),
  facets: byId('facets'),
  facetsActive: byId('facets-active'),
  clear: byId('clear-filters'),
};

// Request bookkeeping. Aborting the previous fetch saves bandwidth, and
// fetchJSON refuses to return once aborted; the sequence number additionally
// guarantees only the newest search renders.
let controller = null;
let latestSeq = 0;
let debounceTimer = 0;

// The search currently shown (or loading); paging and filters are relative to it.
let current = searchStateFrom('');
// The key of the search whose results are on screen, to skip refetching on Back.
let shownKey = null;
let shownStatus = '';
let lastFacets = {};
let setURL = () => {};
let active = false;

// True while the current history entry was created by typing. Typing replaces
// that entry instead of adding one per pause, so Back skips the keystrokes.
let typingEntry = false;

// lastSearchHash is the route of the latest search, for "Back to search" links.
export function lastSearchHash() {
  return hashFor([], searchParamsOf(current));
}

function hashOf(state) {
  return hashFor([], searchParamsOf(state));
}

function formState() {
  return { ...current, q: els.q.value.trim(), type: els.type.value, page: 1 };
}

function syncForm(state) {
  if (els.q.value.trim() !== state.q) els.q.value = state.q;
  els.type.value = state.type;
}

// ---------------------------------------------------------------- rendering

function renderItem(item) {
  const li = el('li', `result result-${item.type === 'movie' || item.type === 'artwork' ? item.type : 'other'}`);
  li.dataset.id = String(item.id ?? '');
  li.dataset.type = String(item.type ?? '');

  const img = image(item.image_url, '', 'thumb', 96, 128);
  if (img) li.append(img);

  const body = el('div', 'result-body');
  const hl = item.highlights || {};
  const title = el('h3', 'result-title');
  const a = routeLink(itemHash(item.id), undefined, 'result-link');
  if (item.title) withMarks(a, item.title, hl.title);
  else a.textContent = 'Untitled';
  title.append(a);
  body.append(title);
  const meta = itemMeta({ type: item.type, year: item.year });
  body.append(meta);
  if (item.subtitle) body.append(withMarks(el('p', 'result-subtitle'), item.subtitle, hl.subtitle));
  if (item.description) body.append(el('p', 'result-description', truncate(item.description)));
  li.append(body);
  return li;
}

// showView resets everything below the form; callers then fill in their part.
function showView({ hint = false, empty = false, status = '' } = {}) {
  els.results.replaceChildren();
  els.hint.hidden = !hint;
  els.empty.hidden = !empty;
  els.corrected.hidden = true;
  els.pager.hidden = true;
  shownStatus = status;
  if (active) setStatus(status);
}

function renderPager(state, total, count) {
  if (total === 0) return;
  const start = (state.page - 1) * PAGE_SIZE;
  els.range.textContent = count
    ? `Showing ${formatCount(start + 1)}–${formatCount(start + count)} of ${formatCount(total)}`
    : `Page ${state.page} is past the last of ${formatCount(total)} results`;
  const focused = document.activeElement;
  els.prev.disabled = state.page <= 1;
  els.next.disabled = start + count >= total || start + PAGE_SIZE > MAX_OFFSET;
  els.pager.hidden = false;
  // A disabled button drops keyboard focus to <body>; hand it to the other one.
  if (focused === els.next && els.next.disabled && !els.prev.disabled) els.prev.focus();
  if (focused === els.prev && els.prev.disabled && !els.next.disabled) els.next.focus();
}

// facetValues merges the API's counts with the selected values (which may have
// no count: facet counts are over the filtered results), selected first.
function facetValues(list, selected) {
  const counts = new Map();
  for (const fc of Array.isArray(list) ? list : []) {
    if (fc && typeof fc.value === 'string' && fc.value !== '' && !counts.has(fc.value)) counts.set(fc.value, Number(fc.count) || 0);
  }
  const out = selected.map((v) => ({ value: v, count: counts.get(v), checked: true }));
  for (const [value, count] of counts) {
    if (!selected.includes(value)) out.push({ value, count, checked: false });
  }
  return out;
}

function optionLabel(text, count) {
  const label = el('label', 'facet-option');
  const name = el('span', 'facet-value', text);
  label.append(name);
  if (count !== undefined) {
    const c = el('span', 'facet-count', formatCount(count));
    c.title = `${formatCount(count)} matching`;
    label.append(c);
  }
  return label;
}

function facetFieldset(name, legendText) {
  const fs = el('fieldset', 'facet');
  fs.append(el('legend', 'facet-legend', legendText));
  fs.dataset.facet = name;
  return fs;
}

function renderFacets(state, facets) {
  lastFacets = facets && typeof facets === 'object' ? facets : {};
  keepFocus(els.facets, () => {
    const groups = [];

    // Decade: one range at a time, so radio buttons with "Any".
    const decades = facetValues(lastFacets.decade, []);
    const selectedDecade = decadeOf(state.yearFrom, state.yearTo);
    const customRange = (state.yearFrom || state.yearTo) && !selectedDecade;
    if (decades.length || state.yearFrom || state.yearTo) {
      const fs = facetFieldset('decade', FACET_LABELS.get('decade'));
      const any = { value: '', text: 'Any decade', checked: !state.yearFrom && !state.yearTo };
      const opts = [any];
      if (customRange) {
        opts.push({ value: 'custom', text: `${state.yearFrom || '…'}–${state.yearTo || '…'}`, checked: true });
      }
      if (selectedDecade && !decades.some((d) => d.value === selectedDecade)) {
        decades.unshift({ value: selectedDecade, count: undefined });
      }
      decades.sort((a, b) => (decadeRange(a.value)?.from ?? 0) - (decadeRange(b.value)?.from ?? 0));
      for (const d of decades) {
        opts.push({ value: d.value, text: d.value, count: d.count, checked: d.value === selectedDecade, disabled: !decadeFilterable(d.value) });
      }
      for (const o of opts) {
        const label = optionLabel(o.text, o.count);
        const input = el('input');
        input.type = 'radio';
        input.name = 'decade';
        input.value = o.value;
        input.checked = Boolean(o.checked);
        input.disabled = Boolean(o.disabled);
        if (o.disabled) label.title = 'Years before 1800 cannot be filtered on';
        label.prepend(input);
        fs.append(label);
      }
      groups.push(fs);
    }

    for (const f of FILTER_FACETS) {
      const values = facetValues(lastFacets[f], state.filters[f]);
      if (!values.length) continue;
      const fs = facetFieldset(f, FACET_LABELS.get(f));
      for (const v of values) {
        const label = optionLabel(v.value, v.count);
        const input = el('input');
        input.type = 'checkbox';
        input.name = f;
        input.value = v.value;
        input.checked = v.checked;
        label.prepend(input);
        fs.append(label);
      }
      groups.push(fs);
    }

    if (!groups.length) groups.push(el('p', 'note', 'No filters for these results.'));
    els.facets.replaceChildren(...groups);
  });

  // Type counts go into the type select's options.
  const typeCounts = new Map((Array.isArray(lastFacets.type) ? lastFacets.type : []).map((fc) => [fc.value, fc.count]));
  for (const o of els.type.options) {
    const base = o.value ? TYPE_PLURALS.get(o.value) : 'All';
    const n = o.value ? typeCounts.get(o.value) : undefined;
    o.textContent = n !== undefined && !state.type ? `${base} (${formatCount(n)})` : base;
  }

  const n = activeFilterCount(state);
  els.facetsActive.textContent = n ? `(${n} active)` : '';
  els.clear.hidden = n === 0;
  els.facetsPanel.hidden = false;
}

function renderResults(state, data) {
  const items = Array.isArray(data.results) ? data.results : [];
  const total = Math.max(0, Number(data.total) || 0);
  const noun = total === 1 ? 'result' : 'results';
  const filters = activeFilterCount(state);
  const suffix = filters ? ` with ${filters} filter${filters === 1 ? '' : 's'}` : '';
  showView({ empty: total === 0, status: `${formatCount(total)} ${noun} for “${state.q}”${suffix}` });
  els.corrected.hidden = !data.corrected;
  els.results.append(...items.map(renderItem));
  renderPager(state, total, items.length);
  renderFacets(state, data.facets);
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
    shownKey = searchKey(state);
    els.results.removeAttribute('aria-busy');
    showView({ hint: true });
    els.facetsPanel.hidden = true;
    return;
  }

  controller = new AbortController();
  els.results.setAttribute('aria-busy', 'true');
  setStatus('Searching…');
  try {
    const data = await fetchJSON(searchAPIURL(state, PAGE_SIZE), controller.signal);
    if (seq !== latestSeq) return;
    shownKey = searchKey(state);
    renderResults(state, data);
  } catch (err) {
    if (seq !== latestSeq || isAbort(err)) return;
    shownKey = null;
    showView();
    els.facetsPanel.hidden = true;
    setError(err.message);
  } finally {
    if (seq === latestSeq) els.results.removeAttribute('aria-busy');
  }
}

// navigate records state in the URL and runs it.
function navigate(state, push) {
  setURL(hashOf(state), push);
  return run(state);
}

async function goToPage(page) {
  typingEntry = false;
  await navigate({ ...current, page }, true);
  // Keep focus on the pager button, but bring the new first result into view.
  els.form.scrollIntoView({ block: 'start' });
}

function onFacetChange(event) {
  const input = event.target;
  if (!(input instanceof HTMLInputElement)) return;
  typingEntry = false;
  const state = { ...current, page: 1, filters: { ...current.filters } };
  if (input.name === 'decade') {
    const r = decadeRange(input.value);
    if (input.value === 'custom') return;
    state.yearFrom = r ? r.from : 0;
    state.yearTo = r ? r.to : 0;
  } else if (FILTER_FACETS.includes(input.name)) {
    const vals = state.filters[input.name].filter((v) => v !== input.value);
    if (input.checked) vals.push(input.value);
    state.filters[input.name] = vals;
  } else {
    return;
  }
  navigate(state, true);
}

// ---------------------------------------------------------------- wiring

els.q.addEventListener('input', () => {
  if (!active) return;
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

els.facets.addEventListener('change', onFacetChange);

els.clear.addEventListener('click', () => {
  typingEntry = false;
  const state = { ...current, page: 1, yearFrom: 0, yearTo: 0, filters: Object.fromEntries(FILTER_FACETS.map((f) => [f, []])) };
  navigate(state, true);
  els.q.focus();
});

els.prev.addEventListener('click', () => goToPage(Math.max(1, current.page - 1)));
els.next.addEventListener('click', () => goToPage(current.page + 1));

// On phones the filters start folded so the results come first.
if (window.matchMedia?.('(max-width: 599.98px)').matches) els.facetsPanel.open = false;

// ---------------------------------------------------------------- page

// mount shows the search page for the hash query; the router calls update
// when only the query changes (Back/Forward between searches).
export function mount(ctx) {
  setURL = ctx.setURL;
  active = true;
  typingEntry = false;
  els.view.hidden = false;
  ctx.setTitle(null);
  const show = (query) => {
    const state = searchStateFrom(query);
    syncForm(state);
    if (searchKey(state) === shownKey) {
      // Already on screen (e.g. Back from an item page): just restore the status.
      current = state;
      setStatus(shownStatus);
      return;
    }
    run(state);
  };
  show(ctx.query);
  return {
    focusTarget: els.q,
    update(next) {
      typingEntry = false;
      show(next.query);
    },
    unmount() {
      active = false;
      clearTimeout(debounceTimer);
      controller?.abort();
      controller = null;
      latestSeq++;
      els.results.removeAttribute('aria-busy');
      els.view.hidden = true;
    },
  };
}
