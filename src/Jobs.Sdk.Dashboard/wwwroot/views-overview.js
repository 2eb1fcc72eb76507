// Overview (counts per state and queue, throughput chart, workers), queues (pause/resume), schedules, workers, audit log.
import { el, time, badge, label, num, duration, relative, table, toast, confirmAction, pagerButtons, reads, STATES } from './ui.js';
import { get, post, itemPath } from './api.js';
import { throughputChart, summarize } from './chart.js';

function head(title, ...extra) {
  return el('div', { class: 'page-head' }, el('h1', null, title), el('span', { class: 'spacer' }), ...extra);
}

function waiting() { return el('p', { class: 'muted' }, 'Waiting for the first live update…'); }

function actionButton(ctx, text, onclick, extraClass = '') {
  const denied = !ctx.session.canAct;
  return el('button', {
    type: 'button', class: 'btn small ' + extraClass, disabled: denied,
    title: denied ? ctx.session.readOnlyReason : null, onclick,
  }, text);
}

export function overview(main, _params, ctx) {
  const render = snapshot => {
    if (!snapshot) { main.replaceChildren(head('Overview'), waiting()); return; }
    const stats = el('div', { class: 'stats' }, STATES.map(s => el('a', { class: 'stat', href: '#/jobs?state=' + s, 'data-state': s },
      el('div', { class: 'label' }, el('span', { class: 'swatch sw-' + s, 'aria-hidden': 'true' }), label(s)),
      el('div', { class: 'value' }, num(snapshot.totals[s])))));
    const sum = summarize(snapshot.throughput);
    const chartHost = el('div', { class: 'chart-host' });
    const chartCard = el('section', { class: 'card', 'aria-labelledby': 'tp-title' },
      el('div', { class: 'page-head' }, el('h2', { id: 'tp-title' }, 'Throughput, last hour'), el('span', { class: 'spacer' }),
        el('div', { class: 'legend' },
          el('span', { style: null, class: 'lg-ok' }, `${num(sum.completed)} completed`),
          el('span', { class: 'lg-bad' }, `${num(sum.failed)} failed`),
          el('span', { class: 'lg-rate' }, `failure rate ${(sum.rate * 100).toFixed(1)}%`))),
      chartHost,
      el('p', { class: 'muted', style: null },
        'Jobs finished per minute, counted by the workers (whatever retention deletes); the current minute lags by up to one heartbeat.'));
    // Over every queue: the event lists only the busiest (at most a page of them).
    const oldest = snapshot.oldestWaitingSeconds ?? -1;
    const paused = snapshot.pausedQueues;
    const health = (value, text, href) => el('div', { class: 'health-row' },
      el('div', { class: 'health-value' }, href ? el('a', { href }, value) : value), el('div', { class: 'muted' }, text));
    const workersCard = el('section', { class: 'card', 'aria-labelledby': 'wk-title' },
      el('h2', { id: 'wk-title' }, 'Right now'),
      health(num(snapshot.workers), snapshot.workers === 1 ? 'live worker' : 'live workers', '#/workers'),
      health(num(snapshot.runningJobs), 'jobs running', '#/jobs?state=processing'),
      health(sum.perMinute >= 10 ? num(Math.round(sum.perMinute)) : sum.perMinute.toFixed(1), 'jobs finished per minute (hour average)'),
      health(oldest < 0 ? '—' : duration(oldest), 'oldest due job waiting'),
      health(num(paused), paused === 1 ? 'queue paused' : 'queues paused', '#/queues'));
    main.replaceChildren(
      head('Overview', el('span', { class: 'muted' }, 'Updated ', time(snapshot.at, true))),
      stats,
      el('div', { class: 'grid two' }, chartCard, workersCard),
      el('section', { class: 'card', 'aria-labelledby': 'q-title' }, el('h2', { id: 'q-title' }, 'Queues'), queueTable(snapshot.queues, ctx, false),
        snapshot.queueCount > snapshot.queues.length
          ? el('p', { class: 'muted', id: 'queues-shown' }, `The busiest ${num(snapshot.queues.length)} of ${num(snapshot.queueCount)} queues. `,
            el('a', { href: '#/queues' }, 'All queues →'))
          : null));
    chartHost.append(throughputChart(snapshot.throughput, Math.max(320, chartHost.clientWidth || 640)));
  };
  render(ctx.snapshot);
  return { onSnapshot: render };
}

function queueTable(queues, ctx, withActions, reload = ctx.refresh) {
  const headers = ['Queue', 'Status', el('th', { class: 'num' }, 'Pending'), el('th', { class: 'num' }, 'Running'),
    el('th', { class: 'num' }, 'Retrying'), el('th', { class: 'num' }, 'Failed'), el('th', { class: 'num hide-sm' }, 'Completed'),
    el('th', { class: 'hide-sm' }, 'Oldest waiting'), el('th', { class: 'num hide-sm' }, 'Workers')];
  if (withActions) headers.push(el('th', null, el('span', { class: 'visually-hidden' }, 'Actions')));
  const link = (q, state, value) => el('a', { href: `#/jobs?queue=${encodeURIComponent(q.name)}&state=${state}` }, num(value));
  const rows = queues.map(q => el('tr', { 'data-queue': q.name },
    el('td', null, el('a', { href: '#/jobs?queue=' + encodeURIComponent(q.name) }, q.name)),
    el('td', null, q.isPaused
      ? [el('span', { class: 'badge s-paused' }, 'Paused'), q.pausedReason ? el('div', { class: 'muted' }, q.pausedReason) : null,
        q.pausedAt ? el('div', { class: 'muted' }, 'since ', time(q.pausedAt, true)) : null]
      : el('span', { class: 'badge s-completed' }, 'Running')),
    el('td', { class: 'num' }, link(q, 'pending', q.counts.pending)),
    el('td', { class: 'num' }, link(q, 'processing', q.counts.processing)),
    el('td', { class: 'num' }, link(q, 'retrying', q.counts.retrying)),
    el('td', { class: 'num' }, link(q, 'failed', q.counts.failed)),
    el('td', { class: 'num hide-sm' }, num(q.counts.completed)),
    el('td', { class: 'hide-sm' }, q.oldestWaitingSeconds == null ? el('span', { class: 'muted' }, '—') : duration(q.oldestWaitingSeconds)),
    el('td', { class: 'num hide-sm' }, num(q.workerCount)),
    withActions ? el('td', { class: 'nowrap' }, q.isPaused
      ? actionButton(ctx, 'Resume', () => queueAction(ctx, q, 'resume', reload))
      : actionButton(ctx, 'Pause', () => queueAction(ctx, q, 'pause', reload))) : null));
  return table(headers, rows, 'No queues yet: push a job or start a worker.');
}

async function queueAction(ctx, queue, action, reload) {
  const reason = await confirmAction(
    action === 'pause' ? `Pause queue “${queue.name}”?` : `Resume queue “${queue.name}”?`,
    action === 'pause' ? 'Workers on every machine stop claiming its jobs until it is resumed; running jobs finish.' : 'Workers start claiming its jobs again.',
    action === 'pause' ? 'Pause queue' : 'Resume queue');
  if (reason === null) return;
  try {
    await post(itemPath('queues', 'name', queue.name, action), { reason });
    toast(action === 'pause' ? `Queue ${queue.name} paused` : `Queue ${queue.name} resumed`);
    reload();
  } catch (e) { toast(e.message, true); }
}

// A page of queues at a time, by name, walked by cursor as the schedules are; reloaded when the live figures change.
export function queues(main, _params, ctx) {
  let cursor = '';
  let prev = [];
  const goTo = (nextCursor, nextPrev) => { cursor = nextCursor; prev = nextPrev; load(); };
  const pageReads = reads();
  const load = async () => {
    const current = pageReads.start();
    let page;
    try { page = await get('queues' + (cursor ? '?cursor=' + encodeURIComponent(cursor) : '')); } catch (e) { if (current()) toast(e.message, true); return; }
    if (!current()) return;   // a reload (live, or after an action) overtaken by paging
    const pager = page.nextCursor || cursor ? el('div', { class: 'pager' }, ...pagerButtons(cursor, prev, page.nextCursor, goTo)) : '';
    main.replaceChildren(head('Queues', el('span', { class: 'muted' }, `${num(page.total)} ${page.total === 1 ? 'queue' : 'queues'}`)),
      el('section', { class: 'card' }, queueTable(page.items, ctx, true, load), pager));
  };
  main.replaceChildren(head('Queues'), el('p', { class: 'muted' }, 'Loading…'));
  load();
  return { onChange: load };
}

// A page of entries at a time, walked by cursor as the jobs list is (`prev`: the cursors of the pages before this one).
export function schedules(main, _params, ctx) {
  let cursor = '';
  let prev = [];
  const goTo = (nextCursor, nextPrev) => { cursor = nextCursor; prev = nextPrev; load(); };
  const pageReads = reads();
  const load = async () => {
    const current = pageReads.start();
    let page;
    try { page = await get('schedules' + (cursor ? '?cursor=' + encodeURIComponent(cursor) : '')); } catch (e) { if (current()) toast(e.message, true); return; }
    if (!current()) return;   // a reload (live, or after an action) overtaken by paging
    const list = page.items;
    const act = async (s, action, title, text) => {
      const reason = await confirmAction(title, text, title.replace(/\?$/, '').replace(/ “.*”/, ''));
      if (reason === null) return;
      try {
        // The row's entry: its key in its queue (a key may be published in several queues, one entry each).
        const path = itemPath('schedules', 'key', s.entryKey, action);
        const r = await post(path + (path.includes('?') ? '&' : '?') + 'queue=' + encodeURIComponent(s.queue), { reason });
        toast(action !== 'trigger' ? `Schedule ${s.entryKey} ${action}d (queue ${s.queue})`
          : r.changed > 0 ? `Pushed ${r.changed} job(s) for ${s.entryKey} (queue ${s.queue})`
          : `Pushed no job for ${s.entryKey}: its job is unique and a job holding its key is waiting, running or within its UniqueFor`, r.changed === 0);
        load();
      } catch (e) { toast(e.message, true); }
    };
    const pauseAction = s => act(s, 'pause', `Pause “${s.entryKey}”?`, 'Its fires are recorded but push no job until resumed.');
    const rows = list.map(s => el('tr', { 'data-entry': s.entryKey },
      el('td', null, el('div', { class: 'mono' }, s.entryKey), el('div', { class: 'muted' }, s.jobName)),
      el('td', { class: 'hide-sm' }, s.queue),
      el('td', null, s.schedule),
      el('td', null, time(s.lastFireAt, true)),
      el('td', null, time(s.nextFireAt, true), s.nextFireAt ? el('div', { class: 'muted' }, relative(s.nextFireAt)) : null),
      el('td', null, s.isPaused ? el('span', { class: 'badge s-paused' }, 'Paused') : el('span', { class: 'badge s-completed' }, 'Active'),
        s.isStale ? [' ', el('span', { class: 'badge s-cancelled', title: 'No running scheduler publishes this entry (removed by a deploy, given a new key by an edited schedule, or every process that runs it is down): its next fire will not come. Not paused, it is deleted 7 days after it was last published.' }, 'Stale'),
          el('div', { class: 'muted' }, 'last published ', relative(s.lastSeenAt))] : null,
        s.firingInstead.length ? [' ', el('span', { class: 'badge s-retrying', title: LEFT_BEHIND }, 'Pause left behind'),
          s.firingInstead.map(k => el('div', { class: 'muted' }, `“${k}” fires instead`))] : null,
        s.pauseLeftOn.map(k => el('div', { class: 'muted' }, `fires though “${k}” is paused`))),
      el('td', { class: 'nowrap' },
        actionButton(ctx, 'Trigger now', () => act(s, 'trigger', `Trigger “${s.entryKey}” now?`, 'Pushes its job once, now; the regular schedule is unchanged.')), ' ',
        s.isPaused
          ? actionButton(ctx, 'Resume', () => act(s, 'resume', `Resume “${s.entryKey}”?`, 'Its fires push jobs again.'))
          : actionButton(ctx, 'Pause', () => pauseAction(s)))));
    const pager = page.nextCursor || cursor ? el('div', { class: 'pager' }, ...pagerButtons(cursor, prev, page.nextCursor, goTo)) : '';
    main.replaceChildren(head('Schedules', el('span', { class: 'muted' }, `${num(page.total)} entries`)),
      ...pausesLeftBehind(page.pausesLeftBehind, ctx, pauseAction), el('section', { class: 'card' },
      table(['Entry', el('th', { class: 'hide-sm' }, 'Queue'), 'Schedule', 'Last fire', 'Next fire', 'Status', el('th', null, 'Actions')],
        rows, 'No schedule entries: a process with AddSchedule(...) publishes them when it starts.'), pager));
  };
  main.replaceChildren(head('Schedules'), el('p', { class: 'muted' }, 'Loading…'));
  load();
  return { onChange: load };
}

const LEFT_BEHIND = 'An edited schedule gives an entry a new key, and the pause stays on the old one: the job fires again on the new key.';

// A pause an edited schedule left behind (as `jobs schedules` and `jobs doctor` say it): the paused stale entry, the unpaused
// live entry of its job that fires instead, and a button to pause that one (off, with the reason, where the user may not act).
function pausesLeftBehind(list, ctx, pauseAction) {
  const notes = list.flatMap(paused => paused.firingInstead.map(key => {
    const live = list.find(e => e.entryKey === key && e.queue === paused.queue);
    return el('div', { class: 'banner warn', role: 'note', 'data-paused-entry': paused.entryKey, 'data-live-entry': key },
      el('strong', null, 'Pause left behind.'),
      el('span', null, `“${paused.entryKey}” is paused but stale, and job “${paused.jobName}” is scheduled by “${key}”, which is not paused ` +
        '(an edited schedule gives an entry a new key; the pause stays on the old one). If the job must stay paused, pause the new entry; ' +
        'then resume the old one to let it go.'),
      live ? actionButton(ctx, `Pause “${key}”`, () => pauseAction(live)) : null);
  }));
  return notes.length ? [el('div', { class: 'notes' }, notes)] : [];
}

export function workers(main) {
  const load = async () => {
    let list;
    try { list = await get('workers'); } catch (e) { toast(e.message, true); return; }
    const rows = list.map(w => el('tr', null,
      el('td', { class: 'mono' }, w.workerId),
      el('td', null, w.host, el('div', { class: 'muted' }, 'pid ' + w.processId)),
      el('td', null, w.queues.join(', ')),
      el('td', { class: 'num' }, `${num(w.runningCount)} / ${num(w.concurrency)}`),
      el('td', { class: 'hide-sm' }, time(w.startedAt, true)),
      el('td', null, time(w.lastHeartbeatAt, true)),
      el('td', { class: 'hide-sm muted' }, w.jobNames.join(', '))));
    main.replaceChildren(head('Workers', el('span', { class: 'muted' }, `${list.length} live`)), el('section', { class: 'card' },
      table(['Worker', 'Host', 'Queues', el('th', { class: 'num' }, 'Running'), el('th', { class: 'hide-sm' }, 'Started'), 'Last heartbeat',
        el('th', { class: 'hide-sm' }, 'Jobs handled')], rows, 'No live workers.')));
  };
  main.replaceChildren(head('Workers'), el('p', { class: 'muted' }, 'Loading…'));
  load();
  return { onChange: load };
}

export function audit(main) {
  const load = async () => {
    let list;
    try { list = await get('audit?limit=200'); } catch (e) { toast(e.message, true); return; }
    const rows = list.map(a => el('tr', null,
      el('td', null, time(a.at, true)), el('td', null, a.actor || el('span', { class: 'muted' }, '—')),
      el('td', null, el('span', { class: 'mono' }, a.action)), el('td', null, a.target),
      el('td', { class: 'hide-sm' }, a.reason || el('span', { class: 'muted' }, '—')), el('td', { class: 'num' }, num(a.rowsChanged))));
    main.replaceChildren(head('Audit log'), el('section', { class: 'card' },
      table(['When', 'Who', 'Action', 'Target', el('th', { class: 'hide-sm' }, 'Reason'), el('th', { class: 'num' }, 'Rows')], rows, 'Nothing done yet.')));
  };
  main.replaceChildren(head('Audit log'), el('p', { class: 'muted' }, 'Loading…'));
  load();
  return { onChange: load };
}
