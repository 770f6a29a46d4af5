// Uploads map (#/map): a circle per country, area proportional to its
// uploads, on an equirectangular world drawn without external data
// (viewBox 0 0 360 180, x = lon + 180, y = 90 - lat), plus the same numbers as
// a table and a per-day chart.

import { fetchJSON, isAbort, poll } from './api.js';
import { columnChart } from './charts.js';
import { dataTable, el, heading, note, section, setError, setStatus, svg } from './dom.js';
import { COUNTRIES } from './countries.js';
import { circleRadius, dailyTotals, formatCount, plural, project } from './util.js';

const REFRESH_MS = 30000;

// Very rough continent outlines as [lon, lat] rings: only a backdrop for
// orientation, not geography.
const LAND = [
  // North America
  [[-167, 68], [-156, 71], [-140, 70], [-128, 70], [-115, 68], [-95, 72], [-82, 70], [-80, 63], [-92, 58], [-82, 52],
    [-78, 60], [-64, 60], [-55, 52], [-66, 45], [-70, 41], [-76, 35], [-81, 31], [-80, 25], [-82, 28], [-90, 30],
    [-97, 27], [-97, 22], [-87, 21], [-88, 16], [-83, 15], [-83, 10], [-78, 8], [-80, 7], [-85, 10], [-92, 14],
    [-105, 20], [-110, 24], [-115, 30], [-117, 33], [-124, 40], [-124, 48], [-130, 55], [-140, 60], [-152, 60],
    [-165, 55], [-158, 58], [-165, 62]],
  // Greenland
  [[-73, 78], [-60, 82], [-30, 83], [-20, 80], [-20, 70], [-42, 60], [-50, 64], [-55, 70], [-60, 76]],
  // South America
  [[-78, 8], [-72, 12], [-62, 11], [-52, 5], [-50, 0], [-35, -5], [-39, -14], [-41, -22], [-48, -26], [-53, -34],
    [-58, -38], [-63, -41], [-65, -46], [-68, -50], [-69, -55], [-74, -52], [-74, -44], [-73, -37], [-71, -30],
    [-70, -18], [-76, -14], [-81, -6], [-80, -1], [-77, 4]],
  // Eurasia
  [[-10, 36], [-9, 43], [-2, 44], [-5, 48], [2, 51], [8, 54], [10, 57], [5, 62], [15, 69], [25, 71], [40, 68],
    [60, 70], [70, 73], [80, 73], [100, 78], [115, 74], [130, 71], [150, 71], [170, 70], [180, 68], [180, 65],
    [170, 60], [163, 58], [157, 51], [156, 57], [143, 59], [136, 54], [140, 48], [130, 42], [128, 35], [121, 40],
    [122, 31], [120, 24], [110, 20], [106, 10], [101, 3], [104, 1], [100, 13], [97, 17], [92, 22], [88, 21],
    [80, 15], [77, 8], [72, 20], [67, 24], [57, 25], [56, 27], [50, 30], [48, 29], [51, 24], [56, 26], [59, 22],
    [52, 16], [43, 12], [39, 21], [35, 28], [35, 36], [27, 36], [26, 40], [23, 37], [20, 40], [14, 45], [18, 40],
    [15, 38], [12, 44], [8, 44], [3, 43], [-2, 37], [-6, 36]],
  // Africa
  [[-17, 21], [-17, 15], [-12, 7], [-8, 4], [5, 5], [9, 4], [10, -2], [12, -6], [13, -12], [12, -18], [15, -27],
    [18, -34], [25, -34], [31, -29], [35, -24], [40, -15], [40, -10], [39, -5], [42, 0], [51, 11], [43, 12],
    [39, 16], [37, 21], [34, 28], [32, 31], [25, 32], [20, 31], [15, 32], [10, 34], [10, 37], [0, 36], [-6, 36],
    [-10, 30], [-13, 27]],
  // Great Britain and Ireland
  [[-5, 50], [1, 51], [2, 53], [-2, 56], [-2, 58], [-5, 58], [-6, 55], [-3, 54]],
  [[-10, 52], [-6, 52], [-6, 55], [-8, 55]],
  // Iceland
  [[-24, 65], [-14, 66], [-14, 64], [-22, 63]],
  // Japan
  [[130, 31], [135, 34], [140, 35], [142, 40], [141, 43], [145, 44], [142, 45], [139, 41], [137, 37], [132, 35]],
  // Madagascar
  [[44, -25], [47, -25], [50, -16], [49, -12], [44, -16]],
  // Sumatra, Borneo, New Guinea
  [[95, 5], [98, 4], [106, -6], [102, -4]],
  [[109, 1], [117, 7], [119, 1], [116, -4], [110, -3]],
  [[131, -1], [141, -3], [150, -10], [141, -9], [137, -5]],
  // Australia
  [[114, -22], [122, -18], [130, -12], [137, -12], [136, -15], [141, -17], [142, -11], [146, -19], [153, -25],
    [151, -33], [150, -37], [144, -38], [138, -35], [135, -34], [131, -31], [124, -34], [115, -34], [113, -26]],
  // New Zealand
  [[172, -34], [178, -38], [174, -41], [171, -46], [167, -46], [172, -41]],
  // Antarctica
  [[-180, -90], [-180, -78], [-60, -73], [-58, -63], [-65, -68], [0, -70], [90, -66], [160, -70], [180, -78], [180, -90]],
];

function ring(points) {
  return points.map(([lon, lat]) => {
    const { x, y } = project(lat, lon);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  }).join(' ');
}

// backdrop draws the ocean, graticule (every 30°, equator and prime meridian
// stronger) and land; it carries no information, so it is hidden from AT.
function backdrop() {
  const g = svg('g', { 'aria-hidden': 'true' });
  g.append(svg('rect', { class: 'map-ocean', x: 0, y: 0, width: 360, height: 180 }));
  for (const points of LAND) g.append(svg('polygon', { class: 'map-land', points: ring(points) }));
  for (let lon = -150; lon <= 150; lon += 30) {
    g.append(svg('line', { class: lon === 0 ? 'map-grid map-grid-main' : 'map-grid', x1: lon + 180, x2: lon + 180, y1: 0, y2: 180 }));
  }
  for (let lat = -60; lat <= 60; lat += 30) {
    g.append(svg('line', { class: lat === 0 ? 'map-grid map-grid-main' : 'map-grid', x1: 0, x2: 360, y1: 90 - lat, y2: 90 - lat }));
  }
  return g;
}

function normalize(countries) {
  const rows = [];
  for (const c of Array.isArray(countries) ? countries : []) {
    const code = typeof c?.country === 'string' ? c.country.trim().toUpperCase() : '';
    const count = Number(c?.count);
    if (!code || !Number.isFinite(count) || count < 0) continue;
    rows.push({ code, count, place: COUNTRIES.get(code) });
  }
  return rows.sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
}

export function mount({ root, signal, setTitle }) {
  setTitle('Uploads map');
  root.append(heading(2, 'Uploads by country'), note('Where uploads come from. Circle areas are proportional to upload counts; the table below has the same numbers.'));

  const figure = el('figure', 'map-figure');
  figure.id = 'uploads-map';
  figure.dataset.total = '0';
  const plot = svg('svg', { class: 'map-svg', viewBox: '0 0 360 180', role: 'img', focusable: 'false', 'aria-label': 'World map of uploads by country' });
  const dots = svg('g', { class: 'map-dots' });
  plot.append(backdrop(), dots);
  const caption = el('figcaption', 'chart-caption', 'Loading…');
  figure.append(plot, caption);

  const tableSection = section('Uploads per country', 'uploads-table');
  const { table, tbody } = dataTable('data-table', ['Country', 'Code', ['Uploads', 'num']]);
  table.id = 'uploads-table';
  table.setAttribute('aria-labelledby', 'uploads-table-heading');
  const tableWrap = el('div', 'table-wrap');
  tableWrap.append(table);
  tableSection.append(tableWrap);

  const dailySection = section('Uploads per day', 'uploads-daily');
  const daily = columnChart({ id: 'uploads-daily-chart', columns: ['Day', 'Uploads'], tableSummary: 'Show uploads per day as a table' });
  const dailyProblem = el('p', 'inline-error');
  dailyProblem.hidden = true;
  dailySection.append(daily.node, dailyProblem);

  root.append(figure, tableSection, dailySection);
  setStatus('Loading the uploads map…');
  let first = true;

  poll(async (tick) => {
    let data;
    try {
      data = await fetchJSON('/api/uploads/map', tick);
    } catch (err) {
      if (isAbort(err)) throw err;
      if (first) {
        setStatus('');
        setError(err.message);
        caption.textContent = 'The map is unavailable.';
      }
      return;
    }
    setError('');
    drawMap(normalize(data.countries), { dots, caption, plot, figure, tbody });
    if (first) setStatus('Uploads map loaded');
    first = false;
  }, REFRESH_MS, signal);

  poll(async (tick) => {
    try {
      const data = await fetchJSON('/api/uploads/daily', tick);
      dailyProblem.hidden = true;
      const days = dailyTotals(data);
      const total = days.reduce((a, [, n]) => a + n, 0);
      const fmt = (d) => new Date(`${d}T00:00:00Z`).toLocaleDateString([], { month: 'short', day: 'numeric', timeZone: 'UTC' });
      daily.update({
        values: days.map(([, n]) => n),
        titles: days.map(([d, n]) => `${fmt(d)}: ${plural(n, 'upload')}`),
        rows: days.map(([d, n]) => [fmt(d), n]),
        axisLabels: days.length ? [fmt(days[0][0]), fmt(days[Math.floor(days.length / 2)][0]), fmt(days[days.length - 1][0])] : [],
        captionText: `${plural(total, 'upload')} in the last ${plural(days.length, 'day')}`,
        ariaLabel: `Bar chart of uploads per day over ${plural(days.length, 'day')}: ${plural(total, 'upload')} in total.`,
      });
      daily.node.dataset.total = String(total);
    } catch (err) {
      if (isAbort(err)) throw err;
      dailyProblem.textContent = `Uploads per day are unavailable: ${err.message}`;
      dailyProblem.hidden = false;
    }
  }, REFRESH_MS, signal);
  return {};
}

function drawMap(rows, { dots, caption, plot, figure, tbody }) {
  const max = Math.max(0, ...rows.map((r) => r.count));
  const total = rows.reduce((a, r) => a + r.count, 0);
  const circles = [];
  // Largest first, so small circles stay on top and can be hovered.
  for (const r of rows) {
    if (!r.place || !(r.count > 0)) continue;
    const { x, y } = project(r.place.lat, r.place.lon);
    const c = svg('circle', { class: 'map-dot', cx: x.toFixed(2), cy: y.toFixed(2), r: circleRadius(r.count, max).toFixed(2) });
    c.dataset.country = r.code;
    const title = svg('title');
    title.textContent = `${r.place.name}: ${plural(r.count, 'upload')}`;
    c.append(title);
    circles.push(c);
  }
  dots.replaceChildren(...circles);
  const unplaced = rows.filter((r) => !r.place).length;
  caption.textContent = rows.length
    ? `${plural(total, 'upload')} from ${plural(rows.length, 'country', 'countries')}${unplaced ? ` (${unplaced} not on the map)` : ''}`
    : 'No uploads yet.';
  const top = rows.slice(0, 3).map((r) => `${r.place?.name ?? r.code} ${formatCount(r.count)}`).join(', ');
  plot.setAttribute('aria-label', rows.length
    ? `World map of uploads by country: ${plural(total, 'upload')} from ${plural(rows.length, 'country', 'countries')}; most from ${top}. The table below lists every country.`
    : 'World map of uploads by country: no uploads yet.');
  figure.dataset.total = String(total);
  figure.dataset.countries = String(rows.length);

  tbody.replaceChildren(...(rows.length ? rows.map((r) => {
    const tr = el('tr');
    const th = el('th', '', r.place?.name ?? 'Unknown country');
    th.scope = 'row';
    tr.append(th, el('td', 'code', r.code), el('td', 'num', formatCount(r.count)));
    return tr;
  }) : [(() => {
    const empty = el('tr');
    const td = el('td', 'muted', 'No uploads yet.');
    td.colSpan = 3;
    empty.append(td);
    return empty;
  })()]));
}
