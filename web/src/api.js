// The public HTTP API (docs/http-api.md), with the signed-in user's token.
// The token is kept for this tab only (sessionStorage), never in a cookie.

const KEY = 'custodian.token';

export function token() {
  return sessionStorage.getItem(KEY) || '';
}
export function setToken(t) {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// GET (or POST with a JSON body) `path`; the parsed JSON, an array for JSON
// Lines, or the text of any other type. Throws ApiError with the server's message.
export async function api(path, { method = 'GET', body, raw = false } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const type = r.headers.get('Content-Type') || '';
  const text = await r.text();
  if (!r.ok) {
    let message = text;
    try {
      message = JSON.parse(text).error.message;
    } catch {
      /* not a JSON error body: the text as it came */
    }
    throw new ApiError(r.status, message || `HTTP ${r.status}`);
  }
  if (raw) return text;
  if (type.startsWith('application/x-ndjson')) {
    return text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  }
  if (type.startsWith('application/json')) return JSON.parse(text);
  return text;
}

// Server-sent events over fetch (EventSource cannot send a token): calls
// onEvent(event) for each frame until the returned function is called.
export function subscribe(query, onEvent, onError) {
  const ctl = new AbortController();
  (async () => {
    try {
      const r = await fetch(`/v1/subscribe?${query}`, {
        headers: { Authorization: `Bearer ${token()}`, Accept: 'text/event-stream' },
        signal: ctl.signal,
      });
      if (!r.ok) throw new ApiError(r.status, `the live feed answered ${r.status}`);
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (data) onEvent(JSON.parse(data));
        }
      }
    } catch (e) {
      if (!ctl.signal.aborted && onError) onError(e);
    }
  })();
  return () => ctl.abort();
}
