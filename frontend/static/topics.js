// Topics pages: #/topics lists the topic model's topics with their top words
// (sized by weight); #/topics/N pages through the items of one topic.

import { HTTPError, fetchJSON, isAbort } from './api.js';
import { el, heading, note, pager, routeLink, setError, setStatus } from './dom.js';
import { miniItem } from './item.js';
import { formatCount, hashFor, plural, positiveInt } from './util.js';

const PAGE_SIZE = 20;
const WORDS_SHOWN = 12;

// wordCloud shows words as a list, each sized (5 steps) by its weight relative
// to the topic's heaviest word; the weight is in the title for pointer users.
function wordCloud(words) {
  const list = el('ul', 'word-cloud');
  const clean = (Array.isArray(words) ? words : [])
    .map((w) => (typeof w === 'string' ? { word: w, weight: NaN } : { word: String(w?.word ?? ''), weight: Number(w?.weight) }))
    .filter((w) => w.word !== '')
    .slice(0, WORDS_SHOWN);
  const max = Math.max(0, ...clean.map((w) => (Number.isFinite(w.weight) ? w.weight : 0)));
  for (const w of clean) {
    const li = el('li', 'word', w.word);
    const size = max > 0 && Number.isFinite(w.weight) ? Math.max(1, Math.ceil((w.weight / max) * 5)) : 2;
    li.dataset.size = String(size);
    if (Number.isFinite(w.weight)) li.title = `weight ${w.weight.toFixed(3)}`;
    list.append(li);
  }
  return list;
}

function topicWords(words, n = 3) {
  return (Array.isArray(words) ? words : [])
    .map((w) => (typeof w === 'string' ? w : w?.word))
    .filter((w) => typeof w === 'string' && w !== '')
    .slice(0, n);
}

export function mountList({ root, signal, setTitle }) {
  setTitle('Topics');
  const info = note('Loading topics…');
  const list = el('ul', 'topic-list');
  list.id = 'topics';
  list.setAttribute('aria-label', 'Topics');
  root.append(heading(2, 'Topics'), info, list);
  root.setAttribute('aria-busy', 'true');
  setStatus('Loading topics…');

  (async () => {
    try {
      const data = await fetchJSON('/api/topics', signal);
      const topics = (Array.isArray(data.topics) ? data.topics : []).filter((t) => Number.isInteger(t?.id) && t.id >= 0);
      list.replaceChildren(...topics.map((t) => {
        const li = el('li', 'topic-card');
        li.dataset.topic = String(t.id);
        const h = el('h3', 'topic-title');
        const words = topicWords(t.words);
        h.append(routeLink(hashFor(['topics', t.id]), `Topic ${t.id}${words.length ? `: ${words.join(', ')}` : ''}`));
        li.append(h, wordCloud(t.words));
        const n = Number(t.items);
        if (Number.isFinite(n)) li.append(el('p', 'topic-count', plural(n, 'item')));
        return li;
      }));
      const parts = [];
      if (data.note) parts.push(String(data.note));
      if (!topics.length && !data.note) parts.push('No topics yet.');
      if (topics.length) parts.push(`${plural(topics.length, 'topic')}${data.version ? ` (model ${data.version})` : ''}. Larger words weigh more in a topic.`);
      info.textContent = parts.join(' ');
      setStatus(`${plural(topics.length, 'topic')} loaded`);
    } catch (err) {
      if (isAbort(err)) return;
      info.textContent = '';
      setStatus('');
      setError(err.message);
    } finally {
      if (!signal.aborted) root.removeAttribute('aria-busy');
    }
  })();
  return {};
}

export function mountTopic({ root, segments, query, signal, setURL, setTitle }) {
  const id = Number(segments[1]);
  setTitle(`Topic ${id}`);
  const back = el('p', 'back-link');
  back.append(routeLink('#/topics', '← All topics'));
  const title = heading(2, `Topic ${id}`);
  const cloud = el('div', 'topic-words');
  const summary = note('Loading…');
  const list = el('ol', 'mini-list');
  list.id = 'topic-items';
  list.setAttribute('aria-label', `Items of topic ${id}`);
  let page = positiveInt(query.get('page'), 1);
  let ctrl = null;
  let seq = 0;
  const pages = pager(`Pages of topic ${id}`, (p) => {
    setURL(hashFor(['topics', id], p > 1 ? { page: String(p) } : undefined), true);
    load(p).then(() => title.scrollIntoView({ block: 'start' }));
  });
  root.append(back, title, cloud, summary, list, pages.node);

  async function load(p) {
    page = p;
    ctrl?.abort();
    ctrl = new AbortController();
    const mine = ++seq;
    list.setAttribute('aria-busy', 'true');
    setStatus('Loading topic items…');
    setError('');
    try {
      const data = await fetchJSON(`/api/topics/${id}/items?limit=${PAGE_SIZE}&offset=${(p - 1) * PAGE_SIZE}`, ctrl.signal);
      if (mine !== seq || signal.aborted) return;
      const words = data.topic?.words;
      cloud.replaceChildren(wordCloud(words));
      const names = topicWords(words);
      if (names.length) {
        title.textContent = `Topic ${id}: ${names.join(', ')}`;
        setTitle(`Topic ${id}: ${names.join(', ')}`);
      }
      const items = Array.isArray(data.items) ? data.items : [];
      const total = Math.max(0, Number(data.total) || 0);
      list.replaceChildren(...items.map((it) => {
        const w = Number(it.weight);
        return miniItem(it, Number.isFinite(w) ? el('span', 'score', `weight ${Math.round(w * 100)}%`) : null);
      }));
      summary.textContent = total
        ? `${plural(total, 'item')} in this topic, strongest first.`
        : 'No items in this topic.';
      pages.update(p, PAGE_SIZE, total, items.length);
      setStatus(total ? `Showing ${formatCount(items.length)} of ${plural(total, 'item')}` : 'No items in this topic');
    } catch (err) {
      if (isAbort(err) || mine !== seq) return;
      setStatus('');
      if (err instanceof HTTPError && err.status === 404) {
        title.textContent = `Topic ${id} not found`;
        summary.textContent = err.message;
      } else {
        summary.textContent = '';
        setError(err.message);
      }
    } finally {
      if (mine === seq) list.removeAttribute('aria-busy');
    }
  }

  load(page);
  return {
    // Back/Forward between pages of the same topic.
    update(next) {
      const p = positiveInt(next.query.get('page'), 1);
      if (p !== page) load(p);
    },
    unmount() {
      ctrl?.abort();
    },
  };
}
