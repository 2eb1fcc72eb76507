// The dashboard's JSON API: GETs, and POSTs that carry the antiforgery token as a header.
let session = null;

export function setSession(s) { session = s; }

async function parse(response) {
  const type = response.headers.get('content-type') || '';
  const body = type.includes('json') ? await response.json() : null;
  if (!response.ok) {
    const message = body && body.error ? body.error : `${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return body;
}

export async function get(path) {
  return parse(await fetch('api/' + path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' }));
}

/** A POST; signal (optional) aborts it. */
export async function post(path, body, signal = undefined) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (session && session.antiforgeryToken) headers[session.antiforgeryHeader] = session.antiforgeryToken;
  return parse(await fetch('api/' + path, { method: 'POST', headers, body: JSON.stringify(body || {}), credentials: 'same-origin', signal }));
}

/**
 * The API path of an action on a named item, `queues/emails/pause`: the name is one path segment. A name of dots only
 * ("." or "..") cannot be one: browsers and servers remove it as a relative step (`queues/./pause` is requested as
 * `queues/pause`). Such a name goes in the query, on the placeholder segment `_`: `queues/_/pause?name=..`.
 */
export function itemPath(collection, param, name, action) {
  return name === '.' || name === '..'
    ? `${collection}/_/${action}?${param}=${encodeURIComponent(name)}`
    : `${collection}/${encodeURIComponent(name)}/${action}`;
}
