// Pipeline pages: #/pipeline is the lineage graph of the assets over the
// asset table (upstreams, partition status counts, last success, freshness);
// #/pipeline/NAME shows one asset: its partitions (newest first), last run,
// materialization and check history, and the admin actions Materialize and
// Backfill missing. Both refresh every 15 s while shown.

import {
  ASSETS_URL, HTTPError, assetHistoryURL, assetURL, backfillMissing, fetchJSON, getConfig, isAbort, materialize, poll,
} from './api.js';
import { withToken, tokenControl } from './admin.js';
import {
  assetLinks, dataTable, el, externalLink, heading, keepFocus, labelled, note, routeLink, section, selectOf, setError,
  setStatus, statusBadge, timeAgo,
} from './dom.js';
import { lineageGraph } from './lineage.js';
import {
  PARTITION_STATUSES, formatCount, formatDuration, hashFor, newestFirst, plural, relativeTime, temporalRunURL,
} from './util.js';

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
  const intro = note('Data assets, what they are built from, and the state of their partitions. Updates every 15 seconds. ');
  intro.append(routeLink('#/runs', 'See the recent runs'), document.createTextNode('.'));
  root.append(heading(2, 'Pipeline'), intro);
  const graphPanel = section('Lineage', 'lineage-panel');
  const graph = lineageGraph();
  graphPanel.append(graph.node);
  const listPanel = section('All assets', 'assets-panel');
  const t = table('assets', 'Data assets', ['Asset', 'Workflow', 'Upstreams', 'Partitions', 'Last success', 'Freshness']);
  const wrap = el('div', 'table-wrap');
  wrap.append(t.table);
  listPanel.append(wrap);
  root.append(graphPanel, listPanel);
  graphPanel.hidden = true;
  setStatus('Loading assets…');
  let first = true;

  poll(async (tick) => {
    let data;
    try {
      data = await fetchJSON(ASSETS_URL, tick);
    } catch (err) {
      if (isAbort(err)) throw err;
      setStatus('');
      setError(err.message);
      return;
    }
    setError('');
    const assets = (Array.isArray(data.assets) ? data.assets : []).filter((a) => typeof a?.name === 'string');
    graph.update(assets);
    graphPanel.hidden = assets.length === 0;
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
          cell('Upstreams', assetLinks(a.upstreams)),
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

// ---------------------------------------------------------------- history

const HISTORY_LIMIT = 50;
const PICKER_MAX = 500;

function historyRow(m, config) {
  const tr = el('tr');
  tr.dataset.runId = String(m?.run_id ?? '');
  tr.dataset.status = String(m?.status ?? '');
  const th = el('th');
  th.scope = 'row';
  th.dataset.label = 'Finished';
  th.append(m?.finished_at ? timeAgo(m.finished_at) : el('span', 'muted', '—'));
  const st = cell('Status', statusBadge(m?.status));
  if (m?.error) st.append(el('span', 'small-block run-error-inline', m.error));
  tr.append(
    th,
    cell('Partition', el('span', 'mono', m?.partition || 'unpartitioned')),
    st,
    cell('Rows', el('span', '', Number.isFinite(Number(m?.rows)) ? formatCount(m.rows) : '—')),
    cell('Data version', el('span', 'mono', m?.data_version || '—')),
    cell('Took', el('span', '', duration(m) || '—')),
    cell('Run', runLink(config, m, 'Temporal run', ` ${m?.workflow_id ?? ''}`) ?? el('span', 'mono small', m?.workflow_id || '—')),
  );
  return tr;
}

// checkRow shows one check's results as a row of pass/fail marks, oldest on
// the left. Each mark is a button whose text (read by screen readers, shown on
// hover as a tooltip) tells the result, when, the partition and the detail;
// focusing or hovering it shows that in the line below the marks.
function checkRow(check) {
  const box = el('div', 'check-history');
  box.dataset.check = String(check?.name ?? '');
  const title = el('h4', 'subheading');
  title.append(el('span', 'mono', check?.name ?? ''));
  if (check?.blocking) title.append(' ', el('span', 'badge status-other', 'blocking'));
  if (check?.declared === false) title.append(' ', el('span', 'badge status-other', 'no longer declared'));
  box.append(title);
  if (check?.description) box.append(el('p', 'muted small', check.description));
  const results = (Array.isArray(check?.results) ? check.results : []).slice().reverse(); // oldest first
  if (!results.length) {
    box.append(note('Not evaluated in the runs shown.'));
    return box;
  }
  const passed = results.filter((r) => r?.passed).length;
  const latest = results[results.length - 1];
  box.append(el('p', 'note', `${formatCount(passed)} of ${plural(results.length, 'evaluation')} shown passed; ` +
    `the latest ${latest?.passed ? 'passed' : 'failed'}${latest?.detail ? `: ${latest.detail}` : '.'}`));
  const marks = el('ol', 'check-marks');
  marks.setAttribute('aria-label', `Results of ${check.name}, oldest first`);
  const detail = el('p', 'check-detail');
  detail.setAttribute('aria-hidden', 'true'); // the focused mark's own text is what is read
  const describe = (r) => {
    const when = r?.at ? relativeTime(r.at) : '';
    const where = r?.partition ? `, partition ${r.partition}` : '';
    return `${r?.passed ? 'Passed' : 'Failed'}${when ? ` ${when}` : ''}${where}${r?.detail ? `: ${r.detail}` : ''}`;
  };
  const show = (r) => { detail.textContent = describe(r); };
  for (const r of results) {
    const li = el('li');
    const b = el('button', `check-mark ${r?.passed ? 'pass' : 'fail'}`);
    b.type = 'button';
    b.dataset.focusKey = `check:${check.name}:${r?.run_id ?? ''}:${r?.partition ?? ''}`;
    b.title = describe(r);
    const glyph = el('span', '', r?.passed ? '✓' : '✗');
    glyph.setAttribute('aria-hidden', 'true');
    b.append(glyph, el('span', 'sr-only', describe(r)));
    for (const ev of ['focus', 'mouseenter', 'click']) b.addEventListener(ev, () => show(r));
    li.append(b);
    marks.append(li);
  }
  show(latest);
  box.append(marks, detail);
  return box;
}

// ---------------------------------------------------------------- one asset

export function mountAsset({ root, segments, signal, setTitle }) {
  const name = segments[1];
  setTitle(`${name} — Pipeline`);
  const back = el('p', 'back-link');
  back.append(routeLink('#/pipeline', '← All assets'));
  const title = heading(2, name);
  title.id = 'asset-title';
  const about = el('div', 'asset-about');

  // ---- actions
  const actions = section('Actions', 'actions');
  const pickerBox = el('div', 'controls');
  const picker = selectOf('materialize-partition', [], '');
  pickerBox.append(labelled('Partition to materialize', picker));
  pickerBox.hidden = true;
  const buttons = el('div', 'action-buttons');
  const materializeButton = el('button', 'button button-primary', 'Materialize');
  materializeButton.type = 'button';
  materializeButton.id = 'materialize';
  const backfillButton = el('button', 'button', 'Backfill missing');
  backfillButton.type = 'button';
  backfillButton.id = 'backfill-missing';
  backfillButton.hidden = true;
  buttons.append(materializeButton, backfillButton);
  const actionsNote = note('');
  const done = el('div', 'action-result');
  done.id = 'action-result';
  done.setAttribute('role', 'status');
  done.setAttribute('aria-live', 'polite');
  const failed = el('p', 'inline-error');
  failed.id = 'action-error';
  failed.setAttribute('role', 'alert');
  failed.hidden = true;
  actions.append(pickerBox, buttons, actionsNote, failed, done, tokenControl(signal));

  const lastRun = section('Last run', 'last-run');
  const lastBox = el('div');
  lastRun.append(lastBox);

  // ---- partitions
  const parts = section('Partitions', 'partitions');
  const partsInfo = note('');
  const t = table('partitions', 'Partitions, newest first', ['Partition', 'Status', 'Rows', 'Finished', 'Run']);
  const wrap = el('div', 'table-wrap');
  wrap.append(t.table);
  const more = el('button', 'button button-small', '');
  more.type = 'button';
  more.hidden = true;
  parts.append(partsInfo, wrap, more);

  // ---- history
  const history = section('Materialization history', 'history');
  const historyControls = el('div', 'controls');
  const historyPicker = selectOf('history-partition', [['', 'All partitions']], '');
  historyControls.append(labelled('Partition', historyPicker));
  historyControls.hidden = true;
  const historyInfo = note('');
  const h = table('history-table', 'Materializations, newest first', ['Finished', 'Partition', 'Status', 'Rows', 'Data version', 'Took', 'Run']);
  const historyWrap = el('div', 'table-wrap');
  historyWrap.append(h.table);
  history.append(historyControls, historyInfo, historyWrap);
  const checks = section('Check history', 'checks');
  const checksBox = el('div');
  checks.append(checksBox);

  root.append(back, title, about, actions, lastRun, checks, history, parts);
  for (const s of [actions, lastRun, parts, history, checks]) s.hidden = true;
  setStatus('Loading asset…');

  let showAll = false;
  let latest = null;
  let config = {};
  let first = true;
  let historyData = null;
  let running = false; // an admin request is out

  const partitioned = () => Boolean(latest?.asset?.partitioning);

  // setOptions refills a <select> when its options changed, keeping its value.
  function setOptions(select, options) {
    const key = JSON.stringify(options);
    if (select.dataset.options === key) return;
    const value = select.value;
    select.replaceChildren(...options.map(([v, text]) => {
      const o = el('option', '', text);
      o.value = v;
      return o;
    }));
    select.dataset.options = key;
    if (options.some(([v]) => v === value)) select.value = value;
  }

  function drawActions() {
    const ps = newestFirst(latest.partitions).slice(0, PICKER_MAX);
    if (partitioned()) {
      setOptions(picker, ps.map((p) => [String(p.partition), `${p.partition} (${p.status})`]));
      setOptions(historyPicker, [['', 'All partitions'], ...ps.map((p) => [String(p.partition), String(p.partition)])]);
    }
    pickerBox.hidden = !partitioned();
    historyControls.hidden = !partitioned();
    backfillButton.hidden = !partitioned();
    // Not disabled while a request is out (that would drop keyboard focus): act() ignores
    // clicks meanwhile, and aria-busy tells assistive technology.
    materializeButton.disabled = partitioned() && !picker.value;
    actions.setAttribute('aria-busy', String(running));
    actionsNote.textContent = partitioned()
      ? (ps.length
        ? 'Materialize runs the job for the chosen partition. Backfill missing re-runs every missing partition of the last 24 hours.'
        : 'There are no partitions to materialize yet.')
      : `Materialize runs ${latest.asset?.workflow || 'the asset’s job'} now.`;
    actions.hidden = false;
  }

  function draw() {
    if (!latest) return;
    const { asset = {}, downstream, last_run: last, partitions } = latest;
    about.replaceChildren(
      ...(asset.description ? [el('p', 'lead', asset.description)] : []),
      definitionList([
        ['Workflow', asset.workflow],
        ['Partitioning', asset.partitioning || 'unpartitioned'],
        ['Upstreams', assetLinks(asset.upstreams)],
        ['Downstream', assetLinks(downstream)],
        ['Checks', Array.isArray(asset.checks) && asset.checks.length ? asset.checks.join(', ') : ''],
      ]),
    );
    drawActions();
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

  function drawHistory() {
    if (!historyData) return;
    const ms = Array.isArray(historyData.materializations) ? historyData.materializations : [];
    const where = historyPicker.value ? ` of partition ${historyPicker.value}` : '';
    historyInfo.textContent = ms.length
      ? `The last ${plural(ms.length, 'materialization')}${where}, newest first.`
      : `No materializations recorded${where} yet.`;
    keepFocus(h.tbody, () => h.tbody.replaceChildren(...ms.map((m) => historyRow(m, config))));
    h.table.hidden = ms.length === 0;
    history.hidden = false;
    const cs = Array.isArray(historyData.checks) ? historyData.checks : [];
    keepFocus(checksBox, () => checksBox.replaceChildren(...(cs.length
      ? cs.map(checkRow)
      : [note('This asset declares no checks.')])));
    checks.hidden = false;
  }

  more.addEventListener('click', () => {
    showAll = !showAll;
    draw();
  });

  const assetPoll = poll(async (tick) => {
    let data;
    try {
      [data, config] = await Promise.all([fetchJSON(assetURL(name), tick), getConfig()]);
    } catch (err) {
      if (isAbort(err)) throw err;
      setStatus('');
      if (err instanceof HTTPError && err.status === 404) {
        title.textContent = `No asset named ${name}`;
        about.replaceChildren(el('p', 'empty', err.message));
        for (const s of [actions, lastRun, parts, history, checks]) s.hidden = true;
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

  const historyPoll = poll(async (tick) => {
    try {
      historyData = await fetchJSON(assetHistoryURL(name, { partition: historyPicker.value, limit: HISTORY_LIMIT }), tick);
    } catch (err) {
      if (isAbort(err)) throw err;
      if (err instanceof HTTPError && err.status === 404) return; // no such asset (said above), or no history here
      historyInfo.textContent = `The history is unavailable: ${err.message}`;
      history.hidden = false;
      return;
    }
    drawHistory();
  }, REFRESH_MS, signal);

  historyPicker.addEventListener('change', () => historyPoll.refresh());
  picker.addEventListener('change', () => drawActions());

  // ---- admin actions
  async function act(what) {
    if (running || !latest) return;
    const partition = partitioned() ? picker.value : '';
    running = true;
    drawActions();
    failed.hidden = true;
    done.replaceChildren(el('span', '', what === 'materialize' ? 'Starting the run…' : 'Starting the backfill…'));
    try {
      const res = await withToken((token) => (what === 'materialize'
        ? materialize(name, partition, token)
        : backfillMissing(name, token)));
      if (signal.aborted) return;
      if (res === null) {
        done.replaceChildren(el('span', '', 'Nothing was started: no admin token was given.'));
        return;
      }
      const p = el('p', 'action-done');
      p.append(`Started ${res.workflow ?? 'the run'} as ${res.workflow_id ?? '?'}${res.trigger ? ` (trigger ${res.trigger})` : ''}. `,
        routeLink(hashFor(['runs'], res.workflow ? { job: res.workflow } : undefined), 'See it on the runs list'));
      const ui = externalLink(res.temporal_ui, 'open it in the Temporal UI', 'run-link');
      if (ui) p.append(' or ', ui);
      p.append('.');
      done.replaceChildren(p);
      assetPoll.refresh();
      historyPoll.refresh();
    } catch (err) {
      if (signal.aborted) return;
      done.replaceChildren();
      failed.textContent = err.message;
      failed.hidden = false;
    } finally {
      running = false;
      if (latest && !signal.aborted) drawActions();
    }
  }
  materializeButton.addEventListener('click', () => act('materialize'));
  backfillButton.addEventListener('click', () => act('backfill'));
  return {};
}
