// The live updates: one event stream per browser for a dashboard, not one per tab. Over HTTP/1.1 a browser keeps at most
// 6 connections to a server, and a stream holds one for as long as its tab is open: with a stream per tab, the 7th tab of
// the dashboard never loaded (every connection busy with a stream). The tabs of one dashboard elect one of them (a Web
// Lock, held until that tab goes away) to hold the stream and pass what it receives on to the others (a BroadcastChannel);
// when that tab closes, another takes the lock and opens the stream. A browser without Web Locks (they need a secure
// context: https, or localhost) keeps a stream per tab.

const STREAM = 'api/events';

/**
 * Opens the event stream; onMessage({ type, data }) gets 'open', 'error' (dropped: reconnecting), and the events
 * 'snapshot' and 'store-error' with their JSON text.
 */
function openStream(onMessage) {
  let retryMs = 3000;
  const connect = () => {
    const source = new EventSource(STREAM);
    source.addEventListener('open', () => { retryMs = 3000; onMessage({ type: 'open' }); });
    source.addEventListener('error', () => {
      onMessage({ type: 'error' });
      // The browser retries a dropped stream by itself, but gives up for good after an answer that is not an event stream
      // (the 503 of an app that is stopping, a proxy's 502 while it restarts): open a new one, backing off up to 30 s.
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      }
    });
    for (const type of ['snapshot', 'store-error']) source.addEventListener(type, e => onMessage({ type, data: e.data }));
  };
  connect();
}

/** Follows the live updates: onMessage gets what the stream sends (see openStream), through whichever tab holds it. */
export function connectLive(onMessage) {
  if (!navigator.locks || typeof BroadcastChannel !== 'function') {
    openStream(onMessage);
    return;
  }

  // One stream per dashboard (its mount path) in this browser profile.
  const name = 'jobs-dashboard-live:' + new URL(STREAM, location.href).pathname;
  const channel = new BroadcastChannel(name);
  let leading = false;
  // What a tab opened now needs to know at once: whether the stream is up, the latest snapshot, a store error after it.
  let state = null, snapshot = null, storeError = null;
  const remember = message => {
    if (message.type === 'open' || message.type === 'error') state = message;
    else if (message.type === 'snapshot') { snapshot = message; storeError = null; }
    else storeError = message;
  };
  channel.addEventListener('message', e => {
    if (e.data.type === 'hello') {
      if (leading) for (const message of [state, snapshot, storeError]) if (message) channel.postMessage(message);
    } else if (!leading) onMessage(e.data);
  });
  channel.postMessage({ type: 'hello' });
  navigator.locks.request(name, () => {
    leading = true;
    openStream(message => {
      remember(message);
      onMessage(message);
      channel.postMessage(message);
    });
    return new Promise(() => {});   // held until this tab goes away
  });
}
