// Jobs.Sdk dashboard: session, banners, hash routing and live updates (one event stream per browser, live.js, fed by the server's one shared poll).
// A view's state (the jobs list's filters and page, the open job) is in the URL's hash, so Back, a reload and a shared link
// show the same thing; views read it with URLSearchParams and render it as text (el), never as markup.
import { el, toast } from './ui.js';
import { get, setSession } from './api.js';
import { overview, queues, schedules, workers, audit } from './views-overview.js';
import { jobList, jobDetail } from './views-jobs.js';
import { SESSION_CHANGED } from './job-actions.js';
import { connectLive } from './live.js';

let routed = null;          // the hash the current view shows
/** Puts a view's new state in the URL, as a new history entry, without rebuilding the view. */
function navigate(hash) {
  history.pushState(null, '', hash);
  routed = location.hash;
}

// Where the operator had scrolled to is kept with the history entry, so Back to a list (or a reload) comes back to the same
// rows once the view has drawn them: the browser's own restoring runs before they load, when the page is still short.
history.scrollRestoration = 'manual';
let scrollTimer = 0;
let scrollToRestore = 0;   // the entry's position when the view was built (a scroll while it loads must not overwrite it)
function keepScroll() {
  clearTimeout(scrollTimer);
  history.replaceState({ ...history.state, scrollY: window.scrollY }, '');
}
function restoreScroll() {
  if (scrollToRestore) window.scrollTo(0, scrollToRestore);
  scrollToRestore = 0;
}

const ctx = { session: null, snapshot: null, refresh: () => route(), navigate, restoreScroll };
let view = null;
let fingerprint = '';
let userSession = null;     // the session as the server answered it: what the user may do
let serverReadOnly = null;  // why the server the dashboard reads refuses writes (from the session, then the live snapshots), or null

// What the views act on: the user's session, with acting switched off while the server is read-only (a standby, the old
// primary after a failover behind one host name), whose refusal would otherwise come only when a button is clicked.
function effectiveSession() {
  if (!serverReadOnly || !userSession.canAct) return userSession;
  return { ...userSession, canAct: false,
    readOnlyReason: `The server this dashboard reads is read-only (${serverReadOnly}): actions would be refused.` };
}

function banners(session) {
  const host = document.getElementById('banners');
  host.replaceChildren();
  if (session.localOnly) {
    host.append(el('div', { class: 'banner warn', role: 'note', id: 'local-only-banner' }, el('strong', null, 'Local only.'),
      el('span', null, 'This dashboard answers only requests from this machine, because the app has not protected it. ' +
        'To serve it remotely, add standard ASP.NET Core authorization: ', el('code', null, '.RequireAuthorization("jobs-viewer")'),
        ' on ', el('code', null, 'MapJobsDashboard(...)'), '.')));
  }
  if (serverReadOnly) {
    host.append(el('div', { class: 'banner warn', role: 'alert', id: 'server-read-only-banner' }, el('strong', null, 'Read-only server.'),
      el('span', null, `This dashboard reads a read-only server (${serverReadOnly}): figures may be stale and actions will be refused. ` +
        'After a failover its connections may still reach the old primary; a read replica lags behind the primary.')));
  }
  if (!userSession.canAct) {
    host.append(el('div', { class: 'banner info', role: 'note', id: 'read-only-banner' }, el('strong', null, 'Read-only.'),
      el('span', null, userSession.readOnlyReason || 'You cannot act on jobs.')));
  }
}

function route() {
  routed = location.hash;
  scrollToRestore = (history.state && history.state.scrollY) || 0;
  const hash = location.hash.replace(/^#/, '') || '/';
  const at = hash.indexOf('?');
  const path = at < 0 ? hash : hash.slice(0, at);
  const params = new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
  // Each view draws into a host of its own: one left behind, whose data arrives after the operator moved on, draws into
  // its detached host, never over the view shown now.
  const main = el('div', { class: 'view' });
  document.getElementById('main').replaceChildren(main);
  const parts = path.split('/').filter(Boolean);
  const section = parts[0] || 'overview';
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (section === 'jobs' && parts[1]) view = jobDetail(main, decoded(parts[1]), params, ctx);
  else if (section === 'jobs') view = jobList(main, params, ctx);
  else if (section === 'queues') view = queues(main, params, ctx);
  else if (section === 'schedules') view = schedules(main, params, ctx);
  else if (section === 'workers') view = workers(main, params, ctx);
  else if (section === 'audit') view = audit(main, params, ctx);
  else view = overview(main, params, ctx);
  const title = ctx.session ? ctx.session.title : 'Jobs';
  document.title = section === 'overview' ? title : `${section.charAt(0).toUpperCase() + section.slice(1)} · ${title}`;
}

// A crafted link may hold a malformed escape (%E0%A4%A): show the server's "not a job id" instead of throwing.
function decoded(part) {
  try { return decodeURIComponent(part); } catch { return part; }
}

function setLive(state, text) {
  const live = document.getElementById('live');
  live.className = 'live ' + state;
  live.querySelector('.live-text').textContent = text;
}

// What the live stream sends (live.js: one stream per browser, shared by its tabs).
function onLive(message) {
  if (message.type === 'open') setLive('on', 'Live');
  else if (message.type === 'error') setLive('off', 'Reconnecting…');
  else if (message.type === 'store-error') {
    const data = JSON.parse(message.data);
    setLive('off', 'Store unreachable');
    document.getElementById('live').title = data.error;
  } else if (message.type === 'snapshot') onSnapshot(JSON.parse(message.data));
}

function onSnapshot(snapshot) {
  ctx.snapshot = snapshot;
  setLive('on', 'Live');
  document.getElementById('live').title = 'Updated ' + new Date(snapshot.at).toLocaleTimeString();
  if ((snapshot.serverReadOnly || null) !== serverReadOnly) {
    // The server became read-only, or writable again: say so, and (dis)able the view's actions. A view that can redraw
    // them in place does (the jobs list keeps the operator's selection); the others are rebuilt.
    serverReadOnly = snapshot.serverReadOnly || null;
    ctx.session = effectiveSession();
    banners(ctx.session);
    document.dispatchEvent(new Event(SESSION_CHANGED));   // an open confirm dialog follows it too
    if (view && view.onSession) {
      view.onSession();
      if (view.onSnapshot) view.onSnapshot(snapshot);
    } else route();
  } else if (view && view.onSnapshot) view.onSnapshot(snapshot);
  // Pages that read more than the snapshot reload only when something changed.
  const next = JSON.stringify([snapshot.totals, snapshot.queues.map(q => [q.name, q.isPaused, q.counts]), snapshot.queueCount,
    snapshot.pausedQueues, snapshot.workers, snapshot.runningJobs]);
  if (fingerprint && next !== fingerprint && view && view.onChange && document.visibilityState === 'visible') view.onChange();
  fingerprint = next;
}

async function start() {
  try {
    userSession = await get('session');
    serverReadOnly = userSession.serverReadOnly || null;   // so a page opened on a read-only server says so at once
  } catch (e) {
    document.getElementById('main').replaceChildren(el('p', { class: 'banner bad' }, e.message));
    return;
  }
  ctx.session = effectiveSession();
  setSession(ctx.session);
  document.getElementById('app-title').textContent = ctx.session.title;
  document.getElementById('user').textContent = userSession.user
    ? userSession.user + (userSession.canAct ? ' · operator' : ' · viewer')
    : (userSession.canAct ? 'operator' : 'viewer');
  banners(ctx.session);
  // Links and Apply change the hash (hashchange); Back and Forward also cross entries a view pushed itself (popstate).
  // Either way, only a hash the current view does not already show rebuilds it.
  const onLocation = () => {
    if (location.hash === routed) return;
    route();
    document.getElementById('main').focus({ preventScroll: true });
  };
  window.addEventListener('scroll', () => { clearTimeout(scrollTimer); scrollTimer = setTimeout(keepScroll, 250); }, { passive: true });
  document.addEventListener('click', e => { if (e.target instanceof Element && e.target.closest('a[href^="#/"], .pager button')) keepScroll(); }, true);
  window.addEventListener('pagehide', keepScroll);
  window.addEventListener('hashchange', onLocation);
  window.addEventListener('popstate', onLocation);
  route();
  connectLive(onLive);
}

window.addEventListener('unhandledrejection', e => toast(String(e.reason && e.reason.message || e.reason), true));
start();
