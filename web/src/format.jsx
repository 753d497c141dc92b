// Dates in the user's time zone, UTC on hover; numbers and durations in words.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function When({ at, date = false }) {
  if (!at) return <span class="muted">never</span>;
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return <span>{at}</span>;
  return (
    <time datetime={at} title={`${d.toISOString().replace('.000Z', 'Z')} (UTC)`}>
      {(date ? dateOnly : dateTime).format(d)}
    </time>
  );
}

// "1 request", "3 requests".
export function count(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const s = Number(seconds);
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

export function money(values) {
  if (!values) return '–';
  const parts = Object.entries(values).map(([cur, v]) => {
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: cur, maximumFractionDigits: 0 }).format(Number(v));
    } catch {
      return `${v} ${cur}`;
    }
  });
  return parts.length ? parts.join(', ') : '–';
}

// "2026-11-20T12:23" (a datetime-local input's value) as RFC 3339 UTC.
export function localInputToUtc(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace('.000Z', 'Z');
}
export function utcToLocalInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
