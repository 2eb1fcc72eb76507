// Throughput over the last hour: stacked bars per minute (completed, failed) and the failure rate as a line, in plain SVG.
import { clock, num } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// The axis top: four equal, whole-number steps just above the tallest bar.
function niceMax(value) {
  if (value <= 4) return 4;
  const raw = value / 4;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    const step = m * power;
    if (step >= raw && Number.isInteger(step)) return step * 4;
  }
  return 40 * power;
}

/** Summary numbers: totals and failure rate over the hour. */
export function summarize(throughput) {
  const minutes = throughput ? throughput.minutes : [];
  const completed = minutes.reduce((s, m) => s + m.completed, 0);
  const failed = minutes.reduce((s, m) => s + m.failed, 0);
  const total = completed + failed;
  return { completed, failed, total, rate: total ? failed / total : 0, perMinute: total / 60 };
}

export function throughputChart(throughput, width) {
  const height = 220, left = 40, right = 44, top = 12, bottom = 26;
  const minutes = throughput ? throughput.minutes : [];
  const s = summarize(throughput);
  const max = niceMax(Math.max(0, ...minutes.map(m => m.completed + m.failed)));
  const plotW = Math.max(100, width - left - right), plotH = height - top - bottom;
  const slot = plotW / Math.max(1, minutes.length), barW = Math.max(1, slot * 0.72);
  const root = svg('svg', {
    class: 'chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-label': `Jobs finished per minute over the last hour: ${s.completed} completed, ${s.failed} failed, failure rate ${(s.rate * 100).toFixed(1)}%.`,
  });
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    root.append(svg('line', { class: 'grid-line', x1: left, x2: left + plotW, y1: y, y2: y }));
    root.append(svg('text', { class: 'axis', x: left - 6, y: y + 4, 'text-anchor': 'end' }, num((max * i) / 4)));
    root.append(svg('text', { class: 'axis', x: left + plotW + 6, y: y + 4 }, `${25 * i}%`));
  }
  const rate = [];
  minutes.forEach((m, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const hOk = (m.completed / max) * plotH, hBad = (m.failed / max) * plotH;
    const at = new Date(m.at);
    const title = svg('title', {}, `${clock(at)}: ${m.completed} completed, ${m.failed} failed`);
    const group = svg('g', {}, title);
    if (hOk > 0) group.append(svg('rect', { class: 'bar-ok', x, width: barW, y: top + plotH - hOk, height: hOk, rx: 1 }));
    if (hBad > 0) group.append(svg('rect', { class: 'bar-bad', x, width: barW, y: top + plotH - hOk - hBad, height: hBad, rx: 1 }));
    group.append(svg('rect', { x: left + i * slot, y: top, width: slot, height: plotH, fill: 'transparent' }));
    root.append(group);
    const total = m.completed + m.failed;
    if (total > 0) rate.push(`${x + barW / 2},${top + plotH - (m.failed / total) * plotH}`);
    if (i % 10 === 0) root.append(svg('text', { class: 'axis', x: left + i * slot, y: height - 8 }, clock(at)));
  });
  if (rate.length > 1) root.append(svg('polyline', { class: 'rate', points: rate.join(' ') }));
  return root;
}
