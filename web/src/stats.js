// Small statistics over API rows, done in the browser: percentiles as the
// server computes them (replay/accountability.h: Percentile, linear
// interpolation), months, days and ages.

// The p-th percentile (0..1) of `values` (numbers), or null for none.
export function percentile(values, p) {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const rank = p * (v.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return v[lo] + (v[hi] - v[lo]) * (rank - lo);
}

// "2026-11" of an RFC 3339 time, in UTC.
export const monthOf = (iso) => iso.slice(0, 7);
// "2026-11-23" of an RFC 3339 time, in UTC.
export const dayOf = (iso) => iso.slice(0, 10);

// The last `n` months up to and including the month of `now`, oldest first.
export function lastMonths(now, n) {
  const out = [];
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  for (let i = n - 1; i >= 0; --i) {
    const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - i, 1));
    out.push(m.toISOString().slice(0, 7));
  }
  return out;
}

// The last `n` days up to and including the day of `now`, oldest first.
export function lastDays(now, n) {
  const out = [];
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let i = n - 1; i >= 0; --i) out.push(new Date(today - i * 86400e3).toISOString().slice(0, 10));
  return out;
}

// First response by month of the request's opening: for each month, the
// median and p90 in hours of the requests answered, and how many there were.
export function responseByMonth(requests, months) {
  const by = new Map(months.map((m) => [m, []]));
  for (const r of requests) {
    const s = r.seconds_to_first_response;
    if (s === null || s === undefined) continue;
    const bucket = by.get(monthOf(r.opened_at));
    if (bucket) bucket.push(Number(s) / 3600);
  }
  const round = (v) => (v === null ? null : Math.round(v * 10) / 10);
  return months.map((m) => ({
    month: m,
    answered: by.get(m).length,
    median: round(percentile(by.get(m), 0.5)),
    p90: round(percentile(by.get(m), 0.9)),
  }));
}

export const AGE_BUCKETS = [
  { label: 'under 1 day', days: 1 },
  { label: '1–7 days', days: 7 },
  { label: '7–30 days', days: 30 },
  { label: '30–90 days', days: 90 },
  { label: 'over 90 days', days: Infinity },
];

// Open requests (not resolved) by how long they have been open at `now`,
// answered and unanswered.
export function requestsByAge(requests, now) {
  const out = AGE_BUCKETS.map((b) => ({ ...b, answered: 0, unanswered: 0 }));
  for (const r of requests) {
    if (r.resolved_at) continue;
    const days = (now.getTime() - Date.parse(r.opened_at)) / 86400e3;
    const b = out.find((x) => days < x.days) || out[out.length - 1];
    if (r.unanswered) ++b.unanswered;
    else ++b.answered;
  }
  return out;
}

// Per day, from one person's access events (GET /v1/access?staff=): how many
// views, how many records exported, and each one's median over the 30 days
// before (the person's own baseline, days without any counted as 0).
export function dailyAccess(events, days) {
  const views = new Map(days.map((d) => [d, 0]));
  const exported = new Map(days.map((d) => [d, 0]));
  // The 30 days before the first one count for the baseline too.
  const first = Date.parse(`${days[0]}T00:00:00Z`);
  const before = [];
  for (let i = 30; i >= 1; --i) before.push(new Date(first - i * 86400e3).toISOString().slice(0, 10));
  for (const d of before) {
    views.set(d, 0);
    exported.set(d, 0);
  }
  for (const e of events) {
    const d = dayOf(e.occurred_at);
    if (!views.has(d)) continue;
    if (e.type === 'data.viewed') views.set(d, views.get(d) + 1);
    else if (e.type === 'data.exported') exported.set(d, exported.get(d) + Number(e.data?.records || 0));
  }
  const all = [...before, ...days];
  const baseline = (series, i) => percentile(all.slice(i, i + 30).map((d) => series.get(d)), 0.5);
  return days.map((d, j) => ({
    day: d,
    views: views.get(d),
    exported: exported.get(d),
    views_baseline: baseline(views, j),
    exported_baseline: baseline(exported, j),
  }));
}
