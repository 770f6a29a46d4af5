// Talking to Curio's JSON API (same origin), and polling it.

// HTTPError carries the status so pages can tell "not found" from other failures.
// body is the parsed JSON error body, when there was one (a 409 names the running workflow).
export class HTTPError extends Error {
  constructor(message, status, body = null) {
    super(message);
    this.name = 'HTTPError';
    this.status = status;
    this.body = body;
  }
}

function abortError() {
  return new DOMException('The request was aborted.', 'AbortError');
}

export function isAbort(err) {
  return err?.name === 'AbortError';
}

// fetchJSON returns the parsed body or throws an Error whose message is fit to
// show to the user (the API's own {"error": "..."} message when it sends one).
// Once signal is aborted it always throws an AbortError, even when the
// response was already in hand, so a late answer can never be rendered.
export async function fetchJSON(url, signal) {
  let res;
  try {
    res = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  } catch (err) {
    if (isAbort(err) || signal?.aborted) throw abortError();
    throw new Error('Could not reach the server. Check your connection and try again.');
  }
  let body = null;
  try {
    body = await res.json();
  } catch (err) {
    if (isAbort(err) || signal?.aborted) throw abortError();
    // Not JSON (e.g. a proxy error page); fall through to a generic message.
  }
  if (signal?.aborted) throw abortError();
  return checked(res, body);
}

function checked(res, body) {
  if (!res.ok) {
    const msg = body && typeof body.error === 'string' && body.error;
    throw new HTTPError(msg || `The request failed (HTTP ${res.status}). Please try again.`, res.status,
      body && typeof body === 'object' ? body : null);
  }
  if (!body || typeof body !== 'object') throw new Error('The server sent an unreadable response.');
  return body;
}

// ---------------------------------------------------------------- pipeline URLs

export const ASSETS_URL = '/api/assets';

export function assetURL(name) {
  return `/api/assets/${encodeURIComponent(String(name))}`;
}

// assetHistoryURL: partition "" means every partition.
export function assetHistoryURL(name, { partition = '', limit = 50 } = {}) {
  const q = new URLSearchParams({ limit: String(limit) });
  if (partition) q.set('partition', partition);
  return `${assetURL(name)}/history?${q}`;
}

export function runsURL({ job = '', status = '', limit = 50 } = {}) {
  const q = new URLSearchParams({ limit: String(limit) });
  if (job) q.set('job', job);
  if (status) q.set('status', status);
  return `/api/runs?${q}`;
}

// ---------------------------------------------------------------- admin API

// The admin token lives in sessionStorage under this one key (gone when the
// tab closes) and only ever leaves it as an Authorization header: never in a
// URL, never logged.
const TOKEN_KEY = 'curio.adminToken';

export function adminToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return ''; // storage disabled: the token is asked for each time
  }
}

export function saveAdminToken(token) {
  try {
    sessionStorage.setItem(TOKEN_KEY, String(token));
  } catch {
    // Storage disabled or full: the token is used once and asked for again.
  }
}

export function forgetAdminToken() {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Nothing was stored.
  }
}

// postAdmin sends body to an admin endpoint with the token as a bearer header
// and says it comes from the web app (the runs it starts are triggered
// "manual:web"). Errors are HTTPErrors with the API's message.
async function postAdmin(path, body, token) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        Authorization: `Bearer ${token}`,
        'X-Curio-Client': 'web',
      },
      body: JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new Error('Could not reach the server. Check your connection and try again.');
  }
  let parsed = null;
  try {
    parsed = await res.json();
  } catch {
    // Not JSON: checked() reports the status.
  }
  return checked(res, parsed);
}

// materialize starts the run that materializes one partition ("" for an
// unpartitioned asset).
export function materialize(asset, partition, token) {
  return postAdmin('/api/admin/materialize', partition ? { asset, partition } : { asset }, token);
}

// backfillMissing re-materializes the asset's missing partitions of the
// default range (the last 24 hours).
export function backfillMissing(asset, token) {
  return postAdmin('/api/admin/backfills', { asset, only: ['missing'] }, token);
}

// The deployment's settings (Temporal UI address), fetched once.
let configPromise = null;
export function getConfig() {
  configPromise ??= fetchJSON('/api/config').catch(() => ({}));
  return configPromise;
}

// poll runs task(signal) now and then every intervalMs after the previous run
// finished, while the tab is visible and until `until` is aborted. A hidden tab
// aborts the run in flight and stops the timer; showing it again runs at once.
// refresh() starts a new run immediately (aborting one in flight).
export function poll(task, intervalMs, until) {
  let timer = 0;
  let ctrl = null;
  let seq = 0;
  const halt = () => {
    clearTimeout(timer);
    timer = 0;
    ctrl?.abort();
    ctrl = null;
  };
  const run = async () => {
    halt();
    if (until.aborted || document.hidden) return;
    const mine = ++seq;
    ctrl = new AbortController();
    try {
      await task(ctrl.signal);
    } catch (err) {
      // Tasks show their own errors; an abort just means a newer run took over.
      if (!isAbort(err)) console.error(err);
    }
    if (mine !== seq || until.aborted || document.hidden) return;
    ctrl = null;
    timer = setTimeout(run, intervalMs);
  };
  const onVisibility = () => (document.hidden ? halt() : run());
  document.addEventListener('visibilitychange', onVisibility);
  until.addEventListener('abort', () => {
    halt();
    document.removeEventListener('visibilitychange', onVisibility);
  }, { once: true });
  run();
  return { refresh: run };
}
