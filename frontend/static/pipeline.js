// Pipeline pages: #/pipeline is the asset table (upstreams, partition status
// counts, last success, freshness); #/pipeline/NAME shows one asset's
// partitions (newest first) and last run, with links to the Temporal UI.
// Both refresh every 15 s while shown.

import { HTTPError, fetchJSON, getConfig, isAbort, poll } from './api.js';
import {
  dataTable, el, externalLink, heading, keepFocus, note, routeLink, section, setError, setStatus, statusBadge, timeAgo,
} from './dom.js';
import { PARTITION_STATUSES, formatCount, formatDuration, hashFor, newestFirst, plural, temporalRunURL } from './util.js';

const REFRESH_MS = 15000;
const PARTITIONS_SHOWN = 24;

function assetHash(name) {
  return hashFor(['pipeline', String(name)]);
}

function table(id, label, columns) {
  const { table: t, tbody } = dataTable('data-table stack', columns);
  if (id) t.id = id;
  t.prepend(el('caption', 'sr-only', label));
  return { table: t, tbody, columns };
}

// cell makes a <td> whose data-label names its column in the stacked phone layout.
function cell(label, ...content) {
  const td = el('td');
  td.dataset.label = label;
  td.append(...content.filter((c) => c !== null && c !== undefined));
  return td;
}

function freshness(fresh, lastSuccess) {
  if (fresh === true) return el('span', 'badge fresh-yes', 'Fresh');
  if (fresh === false) return el('span', 'badge fresh-no', 'Overdue');
  // The API leaves freshness out when there is no success to judge yet.
  return el('span', 'muted', lastSuccess ? 'No policy' : 'Never built');
}

function nameLinks(names) {
  const list = (Array.isArray(names) ? names : []).filter((n) => typeof n === 'string' && n);
  if (!list.length) return el('span', 'muted', 'none');
  const ul = el('ul', 'inline-list');
  for (const n of list) {
    const li = el('li');
    li.append(routeLink(assetHash(n), n));
    ul.append(li);
  }
  return ul;
}

function statusCounts(counts) {
  const wrap = el('span', 'badges');
  const c = counts && typeof counts === 'object' ? counts : {};
  const known = new Set(PARTITION_STATUSES);
  let any = false;
  for (const s of [...PARTITION_STATUSES, ...Object.keys(c).filter((k) => !known.has(k))]) {
    const n = Number(c[s]);
    if (!(n > 0)) continue;
    any = true;
    const b = statusBadge(s);
    b.textContent = `${formatCount(n)} ${s}`;
    wrap.append(b);
  }
  if (!any) wrap.append(el('span', 'muted', 'no partitions'));
  return wrap;
}

// ---------------------------------------------------------------- asset list

export function mountList({ root, signal, setTitle }) {
  setTitle('Pipeline');
  root.append(
    heading(2, 'Pipeline'),
    note('Data assets, what they are built from, and the state of their partitions. Updates every 15 seconds.'),
  );
  const t = table('assets', 'Data assets', ['Asset', 'Workflow', 'Upstreams', 'Partitions', 'Last success', 'Freshness']);
  const wrap = el('div', 'table-wrap');
  wrap.append(t.table);
  root.append(wrap);
  setStatus('Loading assets…');
  let first = true;

  poll(async (tick) => {
    let data;
    try {
      data = await fetchJSON('/api/assets', tick);
    } catch (err) {
      if (isAbort(err)) throw err;
      setStatus('');
      setError(err.message);
      return;
    }
    setError('');
    const assets = (Array.isArray(data.assets) ? data.assets : []).filter((a) => typeof a?.name === 'string');
    keepFocus(t.tbody, () => {
      t.tbody.replaceChildren(...assets.map((a) => {
        const tr = el('tr');
        tr.dataset.asset = a.name;
        const name = el('th');
        name.scope = 'row';
        name.dataset.label = 'Asset';
        name.append(routeLink(assetHash(a.name), a.name, 'asset-name'));
        if (a.description) name.append(el('span', 'asset-description', a.description));
        const wf = cell('Workflow', el('span', '', a.workflow || '—'));
        if (a.partitioning) wf.append(el('span', 'muted small-block', `${a.partitioning} partitions`));
        tr.append(
          name,
          wf,
          cell('Upstreams', nameLinks(a.upstreams)),
          cell('Partitions', statusCounts(a.partition_counts)),
          cell('Last success', a.last_success ? timeAgo(a.last_success) : el('span', 'muted', 'never')),
          cell('Freshness', freshness(a.fresh, a.last_success)),
        );
        return tr;
      }));
      if (!assets.length) {
        const tr = el('tr');
        const td = el('td', 'muted', 'No assets registered.');
        td.colSpan = t.columns.length;
        tr.append(td);
        t.tbody.append(tr);
      }
    });
    if (first) setStatus(`${plural(assets.length, 'asset')} loaded`);
    first = false;
  }, REFRESH_MS, signal);
  return {};
}

// ---------------------------------------------------------------- one asset

function definitionList(rows) {
  const dl = el('dl', 'facts');
  for (const [term, value] of rows) {
    if (value === null || value === undefined || value === '') continue;
    dl.append(el('dt', '', term));
    const dd = el('dd');
    if (value instanceof Node) dd.append(value);
    else dd.textContent = String(value);
    dl.append(dd);
  }
  return dl;
}

// runLink links a materialization's workflow run in the Temporal UI; context
// is read only by screen readers, to tell apart links with the same text.
function runLink(config, m, text, context = '') {
  const url = temporalRunURL(config, m?.workflow_id, m?.run_id);
  if (!url) return null;
  const a = externalLink(url, text, 'run-link');
  if (!a) return null;
  a.title = `Workflow ${m.workflow_id}, run ${m.run_id}`;
  if (context) a.append(el('span', 'sr-only', context));
  return a;
}

function duration(m) {
  const start = Date.parse(m?.started_at);
  const end = Date.parse(m?.finished_at);
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? formatDuration(end - start) : '';
}

function renderLastRun(box, m, config) {
  if (!m || typeof m !== 'object') {
    box.replaceChildren(note('This asset has not been materialized yet.'));
    return;
  }
  const link = runLink(config, m, 'Open this run in the Temporal UI');
  const nodes = [
    definitionList([
      ['Status', statusBadge(m.status)],
      ['Partition', m.partition || 'unpartitioned'],
      ['Rows', Number.isFinite(Number(m.rows)) ? formatCount(m.rows) : ''],
      ['Data version', m.data_version],
      ['Started', m.started_at ? timeAgo(m.started_at) : ''],
      ['Finished', m.finished_at ? timeAgo(m.finished_at) : ''],
      ['Took', duration(m)],
      ['Workflow', m.workflow_id],
      ['Run', m.run_id],
    ]),
  ];
  if (m.error) {
    nodes.push(el('h4', 'subheading', 'Error'), el('pre', 'run-error', m.error));
  }
  const checks = Array.isArray(m.checks) ? m.checks : [];
  if (checks.length) {
    const t = table('', 'Checks of the last run', ['Check', 'Result', 'Detail']);
    t.tbody.append(...checks.map((c) => {
      const tr = el('tr');
      const th = el('th', '', c?.name ?? '');
      th.scope = 'row';
      th.dataset.label = 'Check';
      const result = el('span', `badge ${c?.passed ? 'status-materialized' : 'status-failed'}`, c?.passed ? 'passed' : 'failed');
      const res = cell('Result', result);
      if (c?.blocking) res.append(el('span', 'muted small-block', 'blocking'));
      tr.append(th, res, cell('Detail', el('span', '', c?.detail || '—')));
      return tr;
    }));
    nodes.push(el('h4', 'subheading', 'Checks'), t.table);
  }
  if (link) {
    const p = el('p');
    p.append(link);
    nodes.push(p);
  }
  box.replaceChildren(...nodes);
}

export function mountAsset({ root, segments, signal, setTitle }) {
  const name = segments[1];
  setTitle(`${name} — Pipeline`);
  const back = el('p', 'back-link');
  back.append(routeLink('#/pipeline', '← All assets'));
  const title = heading(2, name);
  title.id = 'asset-title';
  const about = el('div', 'asset-about');
  const lastRun = section('Last run', 'last-run');
  const lastBox = el('div');
  lastRun.append(lastBox);
  const parts = section('Partitions', 'partitions');
  const partsInfo = note('');
  const t = table('partitions', 'Partitions, newest first', ['Partition', 'Status', 'Rows', 'Finished', 'Run']);
  const wrap = el('div', 'table-wrap');
  wrap.append(t.table);
  const more = el('button', 'button button-small', '');
  more.type = 'button';
  more.hidden = true;
  parts.append(partsInfo, wrap, more);
  root.append(back, title, about, lastRun, parts);
  lastRun.hidden = true;
  parts.hidden = true;
  setStatus('Loading asset…');

  let showAll = false;
  let latest = null;
  let config = {};
  let first = true;

  function draw() {
    if (!latest) return;
    const { asset = {}, downstream, last_run: last, partitions } = latest;
    about.replaceChildren(
      ...(asset.description ? [el('p', 'lead', asset.description)] : []),
      definitionList([
        ['Workflow', asset.workflow],
        ['Partitioning', asset.partitioning || 'unpartitioned'],
        ['Upstreams', nameLinks(asset.upstreams)],
        ['Downstream', nameLinks(downstream)],
        ['Checks', Array.isArray(asset.checks) && asset.checks.length ? asset.checks.join(', ') : ''],
      ]),
    );
    keepFocus(lastBox, () => renderLastRun(lastBox, last, config));
    lastRun.hidden = false;

    const ps = newestFirst(partitions);
    const shown = showAll ? ps : ps.slice(0, PARTITIONS_SHOWN);
    const counts = new Map();
    for (const p of ps) counts.set(p.status, (counts.get(p.status) ?? 0) + 1);
    partsInfo.textContent = ps.length
      ? `${plural(ps.length, 'partition')}, newest first: ${[...counts].map(([s, n]) => `${formatCount(n)} ${s}`).join(', ')}.`
      : 'No partitions yet.';
    keepFocus(t.tbody, () => {
      t.tbody.replaceChildren(...shown.map((p) => {
        const tr = el('tr');
        tr.dataset.partition = String(p.partition ?? '');
        tr.dataset.status = String(p.status ?? '');
        const th = el('th', 'mono', p.partition || 'unpartitioned');
        th.scope = 'row';
        th.dataset.label = 'Partition';
        const st = cell('Status', statusBadge(p.status));
        if (p.fresh === false) st.append(el('span', 'muted small-block', 'overdue'));
        const m = p.last;
        tr.append(
          th,
          st,
          cell('Rows', el('span', '', m && Number.isFinite(Number(m.rows)) ? formatCount(m.rows) : '—')),
          cell('Finished', m?.finished_at ? timeAgo(m.finished_at) : el('span', 'muted', '—')),
          cell('Run', runLink(config, m, 'Temporal run', ` of partition ${p.partition || 'unpartitioned'}`) ?? el('span', 'muted', '—')),
        );
        return tr;
      }));
    });
    parts.hidden = false;
    more.hidden = ps.length <= PARTITIONS_SHOWN;
    more.textContent = showAll ? `Show the newest ${PARTITIONS_SHOWN} only` : `Show all ${formatCount(ps.length)} partitions`;
  }

  more.addEventListener('click', () => {
    showAll = !showAll;
    draw();
  });

  poll(async (tick) => {
    let data;
    try {
      [data, config] = await Promise.all([fetchJSON(`/api/assets/${encodeURIComponent(name)}`, tick), getConfig()]);
    } catch (err) {
      if (isAbort(err)) throw err;
      setStatus('');
      if (err instanceof HTTPError && err.status === 404) {
        title.textContent = `No asset named ${name}`;
        about.replaceChildren(el('p', 'empty', err.message));
        lastRun.hidden = true;
        parts.hidden = true;
      } else {
        setError(err.message);
      }
      return;
    }
    setError('');
    latest = data;
    draw();
    if (first) setStatus(`Asset ${name} loaded`);
    first = false;
  }, REFRESH_MS, signal);
  return {};
}
