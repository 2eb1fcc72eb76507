// Small DOM helpers: element builder, times (browser time zone, named after each time; UTC on hover), badges, toasts, the reason dialog.

/** el('div', { class: 'x', onclick: fn }, child, 'text', ...) */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const local = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
const localShort = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function utc(iso) {
  return new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC');
}

/** A <time> in the browser's time zone, with the UTC instant in its title (shown on hover). */
export function time(iso, short = false) {
  if (!iso) return el('span', { class: 'muted' }, '—');
  const date = new Date(iso);
  return el('time', { datetime: iso, title: utc(iso), class: 'nowrap' }, (short ? localShort : local).format(date));
}

export function clock(date) { return timeOnly.format(date); }

export function relative(iso) {
  if (!iso) return '';
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  return duration(Math.abs(seconds)) + (seconds > 0 ? ' from now' : ' ago');
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  seconds = Math.round(seconds);
  if (seconds < 60) return seconds + ' s';
  if (seconds < 3600) return Math.floor(seconds / 60) + ' min ' + (seconds % 60) + ' s';
  if (seconds < 86400) return Math.floor(seconds / 3600) + ' h ' + Math.floor((seconds % 3600) / 60) + ' min';
  return Math.floor(seconds / 86400) + ' d ' + Math.floor((seconds % 86400) / 3600) + ' h';
}

const numbers = new Intl.NumberFormat();
export function num(n) { return numbers.format(n ?? 0); }

export const STATES = ['pending', 'processing', 'retrying', 'failed', 'completed', 'cancelled', 'paused'];
export function label(state) { return state.charAt(0).toUpperCase() + state.slice(1); }
export function badge(state) { return el('span', { class: 'badge s-' + state }, label(state)); }

export function toast(message, bad = false) {
  const node = el('div', { class: 'toast' + (bad ? ' bad' : '') }, message);
  document.getElementById('toasts').append(node);
  setTimeout(() => node.remove(), bad ? 8000 : 4000);
}

/**
 * Asks to confirm an action, with an optional reason for the audit log. Resolves to the reason ('' when none) or null.
 * onOpen (optional) gets the open dialog's controls, to fill in what it learns meanwhile (how many jobs a bulk action would
 * change): title(text), count(text), list(items: a short list under the count, e.g. the first of those jobs; [] hides
 * it), allow(bool: Confirm on or off), blocked(reason: Confirm off whatever allow said, with the reason shown; null lifts
 * it, and Confirm is as allow last set it), and signal (aborted when the dialog closes).
 */
export function confirmAction(title, text, confirmLabel = 'Confirm', danger = false, onOpen = null) {
  const dialog = document.getElementById('reason-dialog');
  const input = document.getElementById('reason-input');
  const ok = document.getElementById('reason-ok');
  const heading = document.getElementById('reason-title');
  const count = document.getElementById('reason-count');
  const list = document.getElementById('reason-sample');
  const blockedNote = document.getElementById('reason-blocked');
  let allowed = true, blockedBy = null;
  const showConfirm = () => {
    ok.disabled = !allowed || blockedBy !== null;
    ok.title = blockedBy || '';
    blockedNote.textContent = blockedBy || '';
    blockedNote.hidden = blockedBy === null;
  };
  heading.textContent = title;
  count.textContent = '';
  list.replaceChildren();
  list.hidden = true;
  document.getElementById('reason-text').textContent = text;
  ok.textContent = confirmLabel;
  ok.className = 'btn ' + (danger ? 'primary danger-fill' : 'primary');
  showConfirm();
  input.value = '';
  const closed = new AbortController();
  return new Promise(resolve => {
    const cancel = document.getElementById('reason-cancel');
    const onCancel = () => dialog.close('cancel');
    cancel.addEventListener('click', onCancel, { once: true });
    dialog.addEventListener('close', () => {
      cancel.removeEventListener('click', onCancel);
      closed.abort();
      allowed = true;
      blockedBy = null;
      showConfirm();
      resolve(dialog.returnValue === 'ok' ? input.value.trim() : null);
    }, { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    input.focus();
    if (onOpen) {
      const open = () => !closed.signal.aborted;
      onOpen({
        title: t => { if (open()) heading.textContent = t; },
        count: t => { if (open()) count.textContent = t; },
        list: items => { if (open()) { list.replaceChildren(...items); list.hidden = items.length === 0; } },
        allow: on => { if (open()) { allowed = on; showConfirm(); } },
        blocked: reason => { if (open()) { blockedBy = reason || null; showConfirm(); } },
        signal: closed.signal,
      });
    }
  });
}

/** Pretty-printed, highlighted JSON (falls back to the raw text when it does not parse). */
export function json(text) {
  let pretty;
  try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch { return el('pre', { class: 'code' }, text); }
  const pre = el('pre', { class: 'code', tabindex: 0, 'aria-label': 'Payload JSON' });
  const token = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  for (const m of pretty.matchAll(token)) {
    pre.append(pretty.slice(last, m.index));
    if (m[1]) {
      pre.append(el('span', { class: m[2] ? 'json-key' : 'json-str' }, m[1]));
      if (m[2]) pre.append(m[2]);
    } else {
      pre.append(el('span', { class: m[3] ? 'json-lit' : 'json-num' }, m[0]));
    }
    last = m.index + m[0].length;
  }
  pre.append(pretty.slice(last));
  return pre;
}

export function table(headers, rows, emptyText) {
  const head = el('tr', null, headers.map(h => typeof h === 'string' ? el('th', { scope: 'col' }, h) : h));
  const body = rows.length ? rows : [el('tr', null, el('td', { class: 'empty', colspan: headers.length }, emptyText))];
  return el('div', { class: 'table-wrap' }, el('table', null, el('thead', null, head), el('tbody', null, body)));
}

/**
 * Numbers the reads of a view that reloads itself (live updates, paging): `const current = reads.start()` before a read,
 * `if (!current()) return` after it. A read a later one overtook (a live reload of the first page still on its way when the
 * operator clicked Next →) is then dropped, instead of drawing its page over the one asked for last.
 */
export function reads() {
  let last = 0;
  return { start() { const mine = ++last; return () => mine === last; } };
}

/**
 * A cursor-paged list's ← Previous, page number and Next → (`prev`: the cursors of the pages before this one, `cursor`:
 * this page's, '' for the first); `goTo(cursor, prev)` shows another page.
 */
export function pagerButtons(cursor, prev, nextCursor, goTo) {
  return [
    el('button', { type: 'button', class: 'btn', disabled: !cursor, onclick: () => goTo(prev.at(-1) || '', prev.slice(0, -1)) }, '← Previous'),
    el('span', { class: 'muted', id: 'page-number' }, `Page ${prev.length + (cursor ? 2 : 1)}`),
    el('button', { type: 'button', class: 'btn', disabled: !nextCursor, onclick: () => goTo(nextCursor, cursor ? [...prev, cursor] : []) }, 'Next →'),
  ];
}
