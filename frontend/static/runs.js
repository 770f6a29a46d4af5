// Runs page (#/runs?job=BuildSimilarity&status=Failed): the most recent runs
// Temporal records, newest first, with why each started (its trigger), links
// to the Temporal UI and to the assets the run's job materializes. Refreshed
// every 10 s while shown.

import { HTTPError, fetchJSON, isAbort, poll, runsURL } from './api.js';
import {
  assetLinks, dataTable, el, externalLink, heading, keepFocus, labelled, note, runBadge, section, selectOf, setError,
  setStatus, timeAgo,
} from './dom.js';
import { RUN_STATUSES, describeTrigger, hashFor, plural, runDuration } from './util.js';

const REFRESH_MS = 10000;
const LIMIT = 50;
const STATUS_OPTIONS = [['', 'Any status'], ...[...RUN_STATUSES.keys()].map((s) => [s, s])];

// A job name from the address bar is only kept if it looks like one (the API
// checks it against the jobs it knows).
function jobFrom(value) {
  const v = String(value ?? '');
  return /^[\w.-]{1,100}$/.test(v) ? v : '';
}

function cell(label, ...content) {
  const td = el('td');
  td.dataset.label = label;
  td.append(...content.filter((c) => c !== null && c !== undefined));
  return td;
}

function runRow(run) {
  const tr = el('tr');
  tr.dataset.workflowId = String(run?.workflow_id ?? '');
  tr.dataset.status = String(run?.status ?? '');
  tr.dataset.trigger = String(run?.trigger ?? '');
  const th = el('th');
  th.scope = 'row';
  th.dataset.label = 'Started';
  th.append(timeAgo(run?.started_at));
  const job = cell('Job', el('span', 'run-job', run?.job || '—'));
  job.append(el('span', 'mono small-block', run?.workflow_id ?? ''));
  const trigger = cell('Trigger');
  if (run?.trigger) trigger.append(el('code', 'trigger', run.trigger));
  trigger.append(el('span', 'muted small-block', describeTrigger(run?.trigger)));
  const ui = externalLink(run?.temporal_ui, 'Open', 'run-link');
  if (ui) {
    ui.append(el('span', 'sr-only', ` run ${run.workflow_id} in the Temporal UI`));
    ui.title = `Workflow ${run.workflow_id}, run ${run.run_id}`;
  }
  tr.append(
    th,
    job,
    cell('Status', runBadge(run?.status)),
    trigger,
    cell('Took', el('span', '', runDuration(run) || '—')),
    cell('Assets', assetLinks(run?.assets)),
    cell('Temporal', ui ?? el('span', 'muted', '—')),
  );
  return tr;
}

export function mount({ root, query, signal, setURL, setTitle }) {
  setTitle('Runs');
  const state = {
    job: jobFrom(query.get('job')),
    status: STATUS_OPTIONS.some(([v]) => v && v === query.get('status')) ? query.get('status') : '',
  };
  const writeURL = () => {
    const q = new URLSearchParams();
    if (state.job) q.set('job', state.job);
    if (state.status) q.set('status', state.status);
    setURL(hashFor(['runs'], q), false);
  };

  root.append(heading(2, 'Runs'),
    note(`The latest runs, newest first, and why each started. Updates every ${REFRESH_MS / 1000} seconds.`));
  const panel = section('Recent runs', 'runs-panel');
  const controls = el('div', 'controls');
  const jobSelect = selectOf('runs-job', [['', 'All jobs'], ...(state.job ? [[state.job, state.job]] : [])], state.job);
  const statusSelect = selectOf('runs-status', STATUS_OPTIONS, state.status);
  controls.append(labelled('Job', jobSelect), labelled('Status', statusSelect));
  const info = note('Loading…');
  const problem = el('p', 'inline-error');
  problem.hidden = true;
  const { table, tbody } = dataTable('data-table stack', ['Started', 'Job', 'Status', 'Trigger', 'Took', 'Assets', 'Temporal']);
  table.id = 'runs';
  table.prepend(el('caption', 'sr-only', 'Recent runs, newest first'));
  const wrap = el('div', 'table-wrap');
  wrap.append(table);
  panel.append(controls, info, problem, wrap);
  root.append(panel);
  setStatus('Loading runs…');
  let first = true;

  const runsPoll = poll(async (tick) => {
    let data;
    try {
      data = await fetchJSON(runsURL({ job: state.job, status: state.status, limit: LIMIT }), tick);
    } catch (err) {
      if (isAbort(err)) throw err;
      if (first) setStatus('');
      problem.textContent = err instanceof HTTPError && err.status === 503
        ? `The runs list is unavailable: ${err.message}`
        : err.message;
      problem.hidden = false;
      info.hidden = true;
      return;
    }
    problem.hidden = true;
    setError('');
    const jobs = (Array.isArray(data.jobs) ? data.jobs : []).filter((j) => typeof j === 'string');
    if (state.job && !jobs.includes(state.job)) jobs.push(state.job);
    const options = [['', 'All jobs'], ...jobs.map((j) => [j, j])];
    if (jobSelect.dataset.options !== JSON.stringify(options)) {
      const focused = document.activeElement === jobSelect;
      jobSelect.replaceChildren(...options.map(([v, text]) => {
        const o = el('option', '', text);
        o.value = v;
        return o;
      }));
      jobSelect.value = state.job;
      jobSelect.dataset.options = JSON.stringify(options);
      if (focused) jobSelect.focus();
    }
    const runs = (Array.isArray(data.runs) ? data.runs : []).filter((r) => r && typeof r === 'object');
    keepFocus(tbody, () => {
      tbody.replaceChildren(...runs.map(runRow));
      if (!runs.length) {
        const tr = el('tr');
        const td = el('td', 'muted', 'No runs match.');
        td.colSpan = 7;
        tr.append(td);
        tbody.append(tr);
      }
    });
    const filters = [state.job, state.status].filter(Boolean).join(', ');
    info.textContent = `${plural(runs.length, 'run')}${filters ? ` (${filters})` : ''}, newest first.`;
    info.hidden = false;
    if (first) setStatus(`${plural(runs.length, 'run')} loaded`);
    first = false;
  }, REFRESH_MS, signal);

  jobSelect.addEventListener('change', () => {
    state.job = jobSelect.value;
    writeURL();
    runsPoll.refresh();
  });
  statusSelect.addEventListener('change', () => {
    state.status = statusSelect.value;
    writeURL();
    runsPoll.refresh();
  });
  return {};
}
