// Jobs list (filters, newest first, cursor paging, bulk actions) and job detail (payload, headers, attempts, timeline).
// The list's filters and page are in the URL (#/jobs?queue=…&state=…&prev=…&cursor=…: the cursors of the pages walked, so a
// shared link pages back too), and a job's link carries them, so its "← Jobs" returns to the same page.
import { el, time, badge, label, num, table, json, relative, pagerButtons, reads, STATES } from './ui.js';
import { get } from './api.js';
import { actionButtons } from './job-actions.js';

const FILTERS = ['queue', 'state', 'name', 'text', 'error'];

/** The list's URL query: its filters, then (past the first page) the cursors of the pages before and of this one. */
function listQuery(filter, prev, cursor) {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (filter[k]) q.set(k, filter[k]);
  if (cursor) {
    for (const c of prev) q.append('prev', c);
    q.set('cursor', cursor);
  }
  return q.toString();
}

const listHash = query => '#/jobs' + (query ? '?' + query : '');

export function jobList(main, params, ctx) {
  const filter = Object.fromEntries(FILTERS.map(k => [k, params.get(k) || '']));
  let cursor = params.get('cursor') || '';
  let prev = cursor ? params.getAll('prev').filter(Boolean) : [];   // cursors of the pages between the first and this one
  const selected = new Set();
  let page = { items: [], nextCursor: null };

  const field = (id, text, input) => el('div', null, el('label', { for: id }, text), input);
  const queueNames = ctx.snapshot ? ctx.snapshot.queues.map(q => q.name) : [];
  if (filter.queue && !queueNames.includes(filter.queue)) queueNames.push(filter.queue);
  const form = el('form', { class: 'card filters', role: 'search', 'aria-label': 'Filter jobs' },
    field('f-queue', 'Queue', el('select', { id: 'f-queue', name: 'queue' }, el('option', { value: '' }, 'All queues'),
      queueNames.map(n => el('option', { value: n, selected: n === filter.queue }, n)))),
    field('f-state', 'State', el('select', { id: 'f-state', name: 'state' }, el('option', { value: '' }, 'Any state'),
      STATES.map(s => el('option', { value: s, selected: s === filter.state }, label(s))))),
    field('f-name', 'Job name', el('input', { id: 'f-name', name: 'name', type: 'text', value: filter.name, placeholder: 'e.g. send-email' })),
    field('f-text', 'Text in arguments', el('input', { id: 'f-text', name: 'text', type: 'search', value: filter.text, placeholder: 'payload contains…' })),
    field('f-error', 'Text in error', el('input', { id: 'f-error', name: 'error', type: 'search', value: filter.error, placeholder: 'error contains…' })),
    el('div', { class: 'nowrap' }, el('button', { type: 'submit', class: 'btn primary' }, 'Apply'), ' ',
      el('button', { type: 'button', class: 'btn', onclick: () => { location.hash = '#/jobs'; } }, 'Clear')));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim()) q.set(k, String(v).trim());
    // One history entry per Apply (typing adds none); Apply on the list already shown reloads it.
    const target = listHash(q.toString());
    if (target === location.hash) ctx.refresh(); else location.hash = target;
  });

  const countText = el('span', { class: 'muted', id: 'selection-count' });
  const toolbarButtons = el('span', { class: 'toolbar-buttons' });
  const tableHost = el('div', null, el('p', { class: 'empty' }, 'Loading…'));
  const pager = el('div', { class: 'pager' });
  // Each page is a history entry: Back returns to the page before, and a job opened from this page comes back to it.
  const goTo = (nextCursor, nextPrev) => {
    cursor = nextCursor;
    prev = nextPrev;
    ctx.navigate(listHash(listQuery(filter, prev, cursor)));
    load();
  };
  main.replaceChildren(
    el('div', { class: 'page-head' }, el('h1', null, 'Jobs'), el('span', { class: 'spacer' }), el('span', { class: 'muted' }, 'Newest first')),
    form,
    el('section', { class: 'card', 'aria-label': 'Jobs' }, el('div', { class: 'toolbar' }, countText, el('span', { class: 'spacer' }), toolbarButtons), tableHost, pager));

  let allMatching = false;   // "every job matching these filters", beyond this page
  const selection = () => allMatching ? { filter: { ...filter } } : [...selected];
  const renderToolbar = () => {
    const pageAll = page.items.length > 0 && page.items.every(j => selected.has(j.id));
    if (allMatching) {
      countText.replaceChildren('Every job matching these filters is selected. ',
        el('button', { type: 'button', class: 'btn small', id: 'clear-selection', onclick: () => { allMatching = false; selected.clear(); renderRows(); } }, 'Clear selection'));
    } else if (pageAll && page.nextCursor) {
      countText.replaceChildren(`${selected.size} selected on this page. `,
        el('button', { type: 'button', class: 'btn small', id: 'select-all-matching', onclick: () => { allMatching = true; renderToolbar(); } },
          'Select every job matching these filters'));
    } else {
      countText.textContent = selected.size ? `${selected.size} selected` : 'Select jobs to act on them';
    }
    toolbarButtons.replaceChildren(...actionButtons(ctx, selection, () => { selected.clear(); allMatching = false; }).flatMap(b => [b, ' ']));
  };
  const renderRows = () => {
    const all = el('input', { type: 'checkbox', 'aria-label': 'Select all jobs on this page',
      checked: page.items.length > 0 && page.items.every(j => selected.has(j.id)),
      onchange: e => { allMatching = false; for (const j of page.items) e.target.checked ? selected.add(j.id) : selected.delete(j.id); renderRows(); } });
    const rows = page.items.map(j => el('tr', { 'data-job': j.id, 'data-state': j.state },
      el('td', { class: 'check' }, el('input', { type: 'checkbox', 'aria-label': `Select ${j.name} ${j.id}`, checked: selected.has(j.id),
        onchange: e => { allMatching = false; e.target.checked ? selected.add(j.id) : selected.delete(j.id); renderToolbar(); all.checked = page.items.every(x => selected.has(x.id)); } })),
      el('td', null, badge(j.state)),
      el('td', null, el('a', { href: jobHash(j.id), class: 'job-link' }, j.name), el('div', { class: 'mono muted' }, j.id.slice(0, 8) + '…' + j.id.slice(-4))),
      el('td', { class: 'hide-sm' }, j.queue),
      el('td', { class: 'num' }, `${j.attempts} / ${j.maxAttempts}`),
      el('td', null, time(j.queuedAt, true)),
      el('td', { class: 'hide-sm' }, time(j.finishedAt || j.runAt, true)),
      el('td', { class: 'error-cell', title: j.lastError || '' }, j.lastError || '')));
    tableHost.replaceChildren(table([el('th', { class: 'check' }, all), 'State', 'Job', el('th', { class: 'hide-sm' }, 'Queue'),
      el('th', { class: 'num' }, 'Attempts'), 'Queued', el('th', { class: 'hide-sm' }, 'Run / finished'), 'Last error'],
      rows, page.searchStopped ? 'No match among the jobs searched so far.' : 'No jobs match these filters.'));
    renderToolbar();
    pager.replaceChildren(
      page.searchStopped ? el('p', { class: 'muted', id: 'search-stopped' }, 'The search stopped for time before it read every job: Next → searches on through older jobs.') : '',
      ...pagerButtons(cursor, prev, page.nextCursor, goTo));
  };
  const jobHash = id => {
    const query = listQuery(filter, prev, cursor);
    return '#/jobs/' + encodeURIComponent(id) + (query ? '?' + query : '');
  };
  const pageReads = reads();
  const load = async () => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
    if (cursor) q.set('cursor', cursor);
    const current = pageReads.start();
    let answer;
    try { answer = await get('jobs?' + q); } catch (e) {
      if (current()) tableHost.replaceChildren(el('p', { class: 'banner bad' }, e.message));
      return;
    }
    if (!current()) return;   // overtaken: a live reload of the first page, answered after Next → or ← Previous
    page = answer;
    const visible = new Set(page.items.map(j => j.id));
    for (const id of [...selected]) if (!visible.has(id)) selected.delete(id);
    renderRows();
    ctx.restoreScroll();
  };
  renderToolbar();
  load();
  // Live: the first page follows the store, except while the operator has jobs selected (on a busy queue the rows would
  // move, and the selected ones drop off the page, under their cursor); Apply, paging or an action reload it.
  // When the server turns read-only or writable again, only the action buttons change: the selection stays.
  return { onChange: () => { if (!cursor && selected.size === 0 && !allMatching) load(); }, onSession: renderToolbar };
}

/** A job's page; params: the list it was opened from (its filters and page), where "← Jobs" returns. */
export function jobDetail(main, id, params, ctx) {
  const cursor = params.get('cursor') || '';
  const back = listHash(listQuery(Object.fromEntries(FILTERS.map(k => [k, params.get(k) || ''])), params.getAll('prev').filter(Boolean), cursor));
  // The job as last drawn: a live update (on a busy store, every snapshot) that finds it unchanged leaves the page as the
  // operator has it (a stack trace opened, text selected in an error), instead of rebuilding it.
  let shown = '';
  const load = async () => {
    let d;
    try { d = await get('jobs/' + encodeURIComponent(id)); } catch (e) {
      shown = '';
      main.replaceChildren(el('p', { class: 'crumbs' }, el('a', { href: back }, '← Jobs')), el('p', { class: 'banner bad' }, e.message));
      return;
    }
    const text = JSON.stringify(d);
    if (text === shown) return;
    shown = text;
    const j = d.job;
    const buttons = actionButtons(ctx, () => [j.id], a => { if (a.key === 'delete') location.hash = back; }, j.state);
    const current = j.state === 'failed' || j.state === 'retrying';
    const timeline = [
      ['Queued', j.queuedAt], ['Due', j.runAt], ['Started', j.startedAt], ['Finished', j.finishedAt], ['Last change', d.updatedAt],
    ].filter(([, at]) => at).sort((a, b) => new Date(a[1]) - new Date(b[1]));
    const errors = d.errors.length ? d.errors.map(e => el('div', { class: 'attempt' },
      el('div', null, el('strong', null, current ? `Attempt ${e.attempt}` : 'Earlier attempt'), e.at ? [' · ', time(e.at, true)] : null),
      el('pre', { class: 'code error', tabindex: 0 }, e.error),
      e.stackTrace ? el('details', { class: 'stack' }, el('summary', null, 'Stack trace'),
        el('pre', { class: 'code stack-trace', tabindex: 0 }, e.stackTrace)) : null))
      : [el('p', { class: 'muted' }, j.lastError ? '' : 'No errors recorded.')];
    if (!d.errors.length && j.lastError) errors.push(el('pre', { class: 'code error', tabindex: 0 }, j.lastError));
    const headerRows = Object.entries(d.headers).map(([k, v]) => el('tr', null, el('td', { class: 'mono' }, k), el('td', { class: 'mono' }, v)));
    const kv = (k, v) => [el('dt', null, k), el('dd', null, v ?? el('span', { class: 'muted' }, '—'))];
    main.replaceChildren(
      el('p', { class: 'crumbs' }, el('a', { href: back }, '← Jobs')),
      el('div', { class: 'page-head' }, el('h1', null, j.name), el('span', { id: 'job-state' }, badge(j.state)), el('span', { class: 'spacer' }),
        el('span', { class: 'toolbar' }, buttons.flatMap(b => [b, ' ']))),
      el('p', { class: 'mono muted' }, j.id),
      el('div', { class: 'grid two' },
        el('div', { class: 'grid' },
          el('section', { class: 'card', 'aria-labelledby': 'payload-title' }, el('h2', { id: 'payload-title' }, 'Payload'), json(d.payload)),
          el('section', { class: 'card', 'aria-labelledby': 'errors-title' }, el('h2', { id: 'errors-title' }, 'Attempts and errors'),
            el('p', { class: 'muted' }, `${j.attempts} of ${j.maxAttempts} attempts used.`), errors),
          el('section', { class: 'card', 'aria-labelledby': 'headers-title' }, el('h2', { id: 'headers-title' }, 'Headers'),
            table(['Name', 'Value'], headerRows, 'No headers.'))),
        el('div', { class: 'grid' },
          el('section', { class: 'card', 'aria-labelledby': 'details-title' }, el('h2', { id: 'details-title' }, 'Details'),
            el('dl', { class: 'kv' },
              kv('State', badge(j.state)), kv('Queue', el('a', { href: '#/jobs?queue=' + encodeURIComponent(j.queue) }, j.queue)),
              kv('Priority', label(j.priority)), kv('Attempts', `${j.attempts} / ${j.maxAttempts}`),
              kv('Worker', j.workerId ? el('span', { class: 'mono' }, j.workerId) : null),
              kv('Lease expires', d.leaseExpiresAt ? [time(d.leaseExpiresAt, true), el('div', { class: 'muted' }, relative(d.leaseExpiresAt))] : null),
              kv('Cancel requested', d.cancelRequested ? 'yes' : 'no'),
              kv('Delete requested', d.deleteRequested ? 'yes: removed when its attempt ends' : 'no'),
              kv('Trace id', d.traceId ? el('span', { class: 'mono' }, d.traceId) : null),
              kv('Schedule entry', d.scheduleEntry ? el('span', { class: 'mono' }, d.scheduleEntry) : null))),
          el('section', { class: 'card', 'aria-labelledby': 'timeline-title' }, el('h2', { id: 'timeline-title' }, 'Timeline'),
            el('ol', { class: 'timeline' }, timeline.map(([what, at]) => el('li', null, el('div', { class: 'what' }, what), time(at))))))));
    ctx.restoreScroll();
  };
  main.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
  load();
  return { onChange: load };
}

export { num };
