// Small dependency-free charts. Each chart is a <figure> with an accessible
// name, a visible caption and a text alternative (a table or the list itself),
// created once and then updated in place, so polling does not reset focus or
// close an opened data table.

import { dataTable, el, svg } from './dom.js';
import { formatCount } from './util.js';

// columnChart draws values as vertical bars over a time (or category) axis.
// The SVG stretches to the container; axis labels are HTML so they stay
// readable at any width.
export function columnChart({ id, tableSummary = 'Show the data as a table', columns = ['Time', 'Count'] }) {
  const figure = el('figure', 'chart');
  if (id) figure.id = id;
  const peak = el('p', 'chart-peak');
  peak.setAttribute('aria-hidden', 'true');
  const plot = svg('svg', { class: 'chart-svg', preserveAspectRatio: 'none', role: 'img', focusable: 'false' });
  const axis = el('div', 'chart-axis');
  axis.setAttribute('aria-hidden', 'true');
  const caption = el('figcaption', 'chart-caption');
  const details = el('details', 'chart-data');
  const summary = el('summary', '', tableSummary);
  const { table, tbody } = dataTable('data-table', columns);
  details.append(summary, table);
  const frame = el('div', 'chart-frame');
  frame.append(peak, plot);
  figure.append(frame, axis, caption, details);

  return {
    node: figure,
    // values: numbers; titles: tooltip per bar; axisLabels: [first, middle, last];
    // rows: [[label, value]] for the table (defaults to one row per bar).
    update({ values, titles = [], ariaLabel, captionText, axisLabels = [], rows, emptyRowsText = 'No data' }) {
      const n = Math.max(1, values.length);
      const max = Math.max(0, ...values);
      plot.setAttribute('viewBox', `0 0 ${n} 100`);
      plot.setAttribute('aria-label', ariaLabel);
      const nodes = [
        svg('line', { class: 'chart-grid', x1: 0, x2: n, y1: 50, y2: 50, 'vector-effect': 'non-scaling-stroke' }),
        svg('line', { class: 'chart-base', x1: 0, x2: n, y1: 100, y2: 100, 'vector-effect': 'non-scaling-stroke' }),
      ];
      values.forEach((v, i) => {
        if (!(v > 0)) return;
        // Keep tiny values visible: at least 2% of the height.
        const h = Math.max(2, (v / max) * 96);
        const bar = svg('rect', { class: 'chart-bar', x: i + 0.12, width: 0.76, y: 100 - h, height: h });
        const title = svg('title');
        title.textContent = titles[i] ?? formatCount(v);
        bar.append(title);
        nodes.push(bar);
      });
      plot.replaceChildren(...nodes);
      peak.textContent = max > 0 ? `peak ${formatCount(max)}` : '';
      axis.replaceChildren(...axisLabels.map((t) => el('span', '', t)));
      caption.textContent = captionText;
      const data = rows ?? values.map((v, i) => [titles[i] ?? String(i + 1), v]);
      const trs = data.map(([label, v]) => {
        const tr = el('tr');
        const th = el('th', '', label);
        th.scope = 'row';
        tr.append(th, el('td', 'num', formatCount(v)));
        return tr;
      });
      if (trs.length === 0) {
        const tr = el('tr');
        const td = el('td', 'muted', emptyRowsText);
        td.colSpan = 2;
        tr.append(td);
        trs.push(tr);
      }
      tbody.replaceChildren(...trs);
    },
  };
}

// barList draws labelled horizontal bars as an ordered list: the list is its
// own text alternative (label and number are plain text; bars are decoration).
export function barList({ id, emptyText = 'Nothing to show.' }) {
  const figure = el('figure', 'chart bar-list-chart');
  if (id) figure.id = id;
  const list = el('ol', 'bar-list');
  const empty = el('p', 'note', emptyText);
  empty.hidden = true;
  const caption = el('figcaption', 'chart-caption');
  figure.append(list, empty, caption);
  return {
    node: figure,
    // rows: [{ label, value, title? }], in display order.
    update({ rows, ariaLabel, captionText }) {
      figure.setAttribute('aria-label', ariaLabel);
      const max = Math.max(0, ...rows.map((r) => Number(r.value) || 0));
      list.replaceChildren(...rows.map((r) => {
        const li = el('li', 'bar-row');
        const label = el('span', 'bar-label', r.label);
        if (r.title) label.title = r.title;
        const track = el('span', 'bar-track');
        track.setAttribute('aria-hidden', 'true');
        const bar = el('span', 'bar-fill');
        bar.style.setProperty('--w', `${max > 0 ? Math.max(1, (Number(r.value) / max) * 100) : 0}%`);
        track.append(bar);
        li.append(label, track, el('span', 'bar-value', formatCount(r.value)));
        return li;
      }));
      list.hidden = rows.length === 0;
      empty.hidden = rows.length > 0;
      caption.textContent = captionText ?? '';
      caption.hidden = !captionText;
    },
  };
}
