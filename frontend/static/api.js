// Talking to Curio's JSON API (same origin), and polling it.

// HTTPError carries the status so pages can tell "not found" from other failures.
export class HTTPError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'HTTPError';
    this.status = status;
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
  if (!res.ok) {
    const msg = body && typeof body.error === 'string' && body.error;
    throw new HTTPError(msg || `The request failed (HTTP ${res.status}). Please try again.`, res.status);
  }
  if (!body || typeof body !== 'object') throw new Error('The server sent an unreadable response.');
  return body;
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
