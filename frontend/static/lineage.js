// The asset lineage graph of #/pipeline: one box per asset, in columns by
// layer (the longest path from a source), coloured by state, with partition
// counts and arrows from each asset's upstreams. Every box is a link to the
// asset's page (Tab to it, Enter to open). The graph keeps its natural size
// and scrolls sideways inside its frame on narrow screens; the asset table
// below it is its text alternative.

import { el, keepFocus, svg, svgRouteLink } from './dom.js';
import { ASSET_STATES, assetState, formatCount, hashFor, lineageLayout, plural } from './util.js';

const NODE_W = 200;
const NODE_H = 56;
const GAP_X = 56;
const GAP_Y = 18;
const PAD = 6;
const NAME_CHARS = 25;

function clip(text, n) {
  const chars = Array.from(String(text));
  return chars.length > n ? `${chars.slice(0, n - 1).join('')}…` : chars.join('');
}

const STATE_LABELS = new Map(ASSET_STATES);

// lineageGraph returns the figure and update(assets), which redraws it from
// GET /api/assets (only when something changed, keeping keyboard focus).
export function lineageGraph() {
  const figure = el('figure', 'lineage');
  const caption = el('figcaption', 'chart-caption');
  caption.id = 'lineage-caption';
  const legend = el('ul', 'lineage-legend');
  legend.setAttribute('aria-label', 'Colours');
  for (const [state, label] of ASSET_STATES) {
    const li = el('li');
    const swatch = el('span', `swatch state-${state}`);
    swatch.setAttribute('aria-hidden', 'true');
    li.append(swatch, document.createTextNode(label));
    legend.append(li);
  }
  const frame = el('div', 'graph-wrap');
  const plot = svg('svg', { id: 'lineage', class: 'lineage-svg', role: 'group', 'aria-labelledby': caption.id });
  frame.append(plot);
  figure.append(caption, legend, frame);
  let drawn = '';

  function draw(assets) {
    const { columns, slots, row, edges, routes } = lineageLayout(assets);
    const byName = new Map(assets.map((a) => [a.name, a]));
    const rows = Math.max(1, ...slots.map((c) => c.length));
    const width = PAD * 2 + slots.length * NODE_W + Math.max(0, slots.length - 1) * GAP_X;
    const height = PAD * 2 + rows * NODE_H + (rows - 1) * GAP_Y;
    const pos = new Map(); // asset or waypoint → top left of its slot
    slots.forEach((col, c) => {
      const offset = ((rows - col.length) * (NODE_H + GAP_Y)) / 2; // centre short columns
      for (const id of col) {
        pos.set(id, { x: PAD + c * (NODE_W + GAP_X), y: PAD + offset + row.get(id) * (NODE_H + GAP_Y) });
      }
    });
    plot.setAttribute('viewBox', `0 0 ${width} ${height}`);
    plot.setAttribute('width', String(width));
    plot.setAttribute('height', String(height));

    const marker = svg('marker', { id: 'lineage-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'lineage-arrow' }));
    const defs = svg('defs');
    defs.append(marker);

    const lines = svg('g', { class: 'lineage-edges', 'aria-hidden': 'true' });
    for (const [from, to] of edges) {
      // From the upstream's right side, straight across each waypoint's column, curving in
      // the gaps between columns, to the downstream's left side.
      const a = pos.get(from);
      let x = a.x + NODE_W;
      let y = a.y + NODE_H / 2;
      let d = `M${x},${y}`;
      const curveTo = (x2, y2) => {
        const mid = (x + x2) / 2;
        d += ` C${mid},${y} ${mid},${y2} ${x2},${y2}`;
        x = x2;
        y = y2;
      };
      for (const id of routes.get(`${from}\u2192${to}`) ?? []) {
        const w = pos.get(id);
        curveTo(w.x, w.y + NODE_H / 2);
        x = w.x + NODE_W;
        d += ` H${x}`;
      }
      const b = pos.get(to);
      curveTo(b.x - 2, b.y + NODE_H / 2);
      lines.append(svg('path', { class: 'lineage-edge', d, 'marker-end': 'url(#lineage-arrow)', 'data-from': from, 'data-to': to }));
    }

    const nodes = svg('g', { class: 'lineage-nodes' });
    const tally = new Map();
    for (const col of columns) {
      for (const name of col) {
        const asset = byName.get(name);
        const st = assetState(asset);
        tally.set(st.status, (tally.get(st.status) ?? 0) + 1);
        const { x, y } = pos.get(name);
        const ups = (Array.isArray(asset.upstreams) ? asset.upstreams : []).filter((u) => typeof u === 'string');
        const overdue = asset.fresh === false ? ', overdue' : '';
        const label = `${name}: ${STATE_LABELS.get(st.status).toLowerCase()}${overdue}, ${st.text}; ` +
          (ups.length ? `built from ${ups.join(', ')}` : 'a source');
        const link = svgRouteLink(hashFor(['pipeline', name]), {
          class: `lineage-node state-${st.status}`, transform: `translate(${x} ${y})`, 'aria-label': label,
          'data-asset': name, 'data-state': st.status, 'data-focus-key': `lineage:${name}`,
        });
        const title = svg('title');
        title.textContent = `${name}\n${STATE_LABELS.get(st.status)}${overdue}: ${st.text}`;
        const nameText = svg('text', { class: 'lineage-name', x: 16, y: 23 });
        nameText.textContent = clip(name, NAME_CHARS);
        const summary = svg('text', { class: 'lineage-summary', x: 16, y: 43 });
        summary.textContent = clip(`${st.text}${overdue}`, NAME_CHARS + 6);
        link.append(title,
          svg('rect', { class: 'lineage-box', width: NODE_W, height: NODE_H, rx: 8 }),
          svg('rect', { class: 'lineage-stripe', x: 0, y: 0, width: 7, height: NODE_H, rx: 3 }),
          nameText, summary);
        nodes.append(link);
      }
    }
    plot.replaceChildren(defs, lines, nodes);
    const states = ASSET_STATES.filter(([s]) => tally.get(s)).map(([s, l]) => `${formatCount(tally.get(s))} ${l.toLowerCase()}`);
    caption.textContent = `${plural(assets.length, 'asset')} in ${plural(columns.length, 'layer')}` +
      `${states.length ? `: ${states.join(', ')}` : ''}. Arrows point from an asset to what is built from it; select an asset to open it.`;
  }

  return {
    node: figure,
    update(list) {
      const assets = (Array.isArray(list) ? list : []).filter((a) => typeof a?.name === 'string' && a.name);
      const key = JSON.stringify(assets.map((a) => [a.name, a.upstreams, a.partitioning, a.partition_counts, Boolean(a.last_success), a.fresh]));
      if (key === drawn) return;
      drawn = key;
      figure.hidden = assets.length === 0;
      keepFocus(plot, () => draw(assets));
    },
  };
}
