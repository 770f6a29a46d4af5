// Curio web app: a hash router over the pages. Plain ES modules, no
// dependencies, no build step.
//
// Routes: #/ (search, query in the hash: #/?q=…), #/item/ID, #/trending,
// #/map, #/topics, #/topics/N, #/pipeline, #/pipeline/NAME, #/runs.
//
// Safety rule (every module): text that comes from the API is only ever put
// into the DOM with textContent (or as an attribute value), never parsed as
// HTML; links and images from the API go through dom.js, which only accepts
// http(s) URLs.

import { getConfig } from './api.js';
import { byId, el, heading, routeLink, setError, setRouteHref, setSafeHref, setStatus } from './dom.js';
import * as item from './item.js';
import * as map from './map.js';
import * as pipeline from './pipeline.js';
import * as runs from './runs.js';
import * as search from './search.js';
import * as topics from './topics.js';
import * as trending from './trending.js';
import { parseHash } from './util.js';

const SITE = 'Curio';
const DEFAULT_TITLE = document.title;

// Each route: which nav link is current, whether the hash segments match, the page.
const ROUTES = [
  { nav: 'search', match: (s) => s.length === 0, page: search.mount, static: true },
  { nav: '', match: (s) => s.length === 2 && s[0] === 'item' && s[1] !== '', page: item.mount },
  { nav: 'trending', match: (s) => s.length === 1 && s[0] === 'trending', page: trending.mount },
  { nav: 'map', match: (s) => s.length === 1 && s[0] === 'map', page: map.mount },
  { nav: 'topics', match: (s) => s.length === 1 && s[0] === 'topics', page: topics.mountList },
  { nav: 'topics', match: (s) => s.length === 2 && s[0] === 'topics' && /^\d{1,9}$/.test(s[1]), page: topics.mountTopic },
  { nav: 'pipeline', match: (s) => s.length === 1 && s[0] === 'pipeline', page: pipeline.mountList },
  { nav: 'pipeline', match: (s) => s.length === 2 && s[0] === 'pipeline' && s[1] !== '', page: pipeline.mountAsset },
  { nav: 'runs', match: (s) => s.length === 1 && s[0] === 'runs', page: runs.mount },
];

const NOT_FOUND = { nav: '', page: mountNotFound };

const view = byId('view');
const main = byId('main');

// The page on screen: its route, path (without query) and handle.
let current = null;
// The hash the app last rendered or wrote, so our own history writes and the
// popstate+hashchange pair of one navigation are handled once.
let renderedHash = null;

// setURL writes a hash into the address bar without rendering again.
function setURL(hash, push) {
  if (hash === location.hash || (hash === '#/' && location.hash === '')) return;
  if (push) history.pushState(null, '', hash);
  else history.replaceState(null, '', hash);
  renderedHash = location.hash;
  updateNav();
}

function setTitle(text) {
  document.title = text ? `${text} — ${SITE}` : DEFAULT_TITLE;
}

function updateNav() {
  const nav = current?.route.nav ?? '';
  for (const a of document.querySelectorAll('#site-nav a[data-nav]')) {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
    // The Search link returns to the latest search rather than an empty one.
    if (a.dataset.nav === 'search') setRouteHref(a, search.lastSearchHash());
  }
}

function render({ focus }) {
  renderedHash = location.hash;
  const { segments, query } = parseHash(location.hash);
  const route = ROUTES.find((r) => r.match(segments)) ?? NOT_FOUND;
  const path = segments.join('/');

  // Same page, new query (Back/Forward between searches or pages of a list).
  if (current && current.route === route && current.path === path && current.handle.update) {
    current.handle.update({ segments, query });
    updateNav();
    return;
  }

  if (current) {
    current.controller.abort();
    current.handle.unmount?.();
  }
  setError('');
  setStatus('');
  const controller = new AbortController();
  view.replaceChildren();
  view.removeAttribute('aria-busy');
  view.hidden = Boolean(route.static);
  // The search page's markup is static: on any other route it must be hidden, even on a
  // first load straight into that route (the search page never mounted, so never unmounted).
  const searchView = document.getElementById('view-search');
  if (searchView && !route.static) searchView.hidden = true;
  const handle = route.page({
    root: view,
    segments,
    query,
    signal: controller.signal,
    setURL,
    setTitle,
  }) ?? {};
  current = { route, path, handle, controller };
  updateNav();

  if (focus) {
    window.scrollTo(0, 0);
    // Move focus to the new page so screen readers announce it and Tab starts there.
    const target = handle.focusTarget ?? view.querySelector('.page-title') ?? main;
    target.focus({ preventScroll: true });
  }
}

function onLocationChange() {
  if (location.hash === renderedHash) return;
  render({ focus: true });
}

function mountNotFound({ root, setTitle: title }) {
  title('Page not found');
  const home = el('p');
  home.append(routeLink('#/', 'Go to search'));
  root.append(heading(2, 'Page not found'), el('p', '', 'There is no page at this address.'), home);
  return {};
}

// The Temporal UI address depends on the deployment, so the API supplies it.
// The link stays hidden unless a usable http(s) URL arrives.
async function loadConfig() {
  const cfg = await getConfig();
  const link = byId('temporal-link');
  const url = cfg?.temporal_ui_url;
  link.hidden = !(typeof url === 'string' && url && setSafeHref(link, url));
}

// The skip link targets <main>, not a route.
byId('skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  const target = view.hidden ? byId('q') : view.querySelector('.page-title') ?? main;
  target.focus();
});

window.addEventListener('popstate', onLocationChange);
window.addEventListener('hashchange', onLocationChange);

// A search submitted before the script ran (or an old ?q= link) arrives as a
// query string: move it into the hash so there is one source of truth.
if (location.search && (location.hash === '' || location.hash === '#/' || location.hash === '#')) {
  history.replaceState(null, '', `${location.pathname}#/${location.search}`);
}
render({ focus: false });
loadConfig();
