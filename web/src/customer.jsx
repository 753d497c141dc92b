// A customer: profile, people, what is open, the chain of custody, the
// timeline, and the customer as it was at any time (knowledge or business time).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, subscribe } from './api.js';
import { localInputToUtc, money, utcToLocalInput, When } from './format.jsx';
import { CustomerLink, Loaded, Paged, Problem, Section, StaffLink, useApi } from './ui.jsx';

function AsOfControl({ asOf, mode, onChange }) {
  const [value, setValue] = useState(asOf ? utcToLocalInput(asOf) : '');
  const [kind, setKind] = useState(mode || 'knowledge');
  useEffect(() => setValue(asOf ? utcToLocalInput(asOf) : ''), [asOf]);
  const apply = (e) => {
    e.preventDefault();
    const utc = localInputToUtc(value);
    if (utc) onChange(utc, kind);
  };
  return (
    <form class="asof" onSubmit={apply} aria-label="as of">
      <label>
        As of <input type="datetime-local" name="as_of" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      </label>
      <label>
        <select name="as_of_mode" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
          <option value="knowledge">as the log knew it then (knowledge time)</option>
          <option value="business">as things had happened by then (business time)</option>
        </select>
      </label>
      <button type="submit">Show</button>
      {asOf && (
        <button type="button" onClick={() => onChange('', kind)}>
          Now
        </button>
      )}
    </form>
  );
}

function Profile({ c }) {
  const rows = [
    ['Name', c.name || <span class="muted">{c.kind === 'individual' ? 'a person: see People' : '–'}</span>],
    ['Status', c.status],
    ['Owner', <StaffLink id={c.owner} />],
    ['Team', c.team || '–'],
    ['Segment', c.segment || '–'],
    ['Industry', c.industry || '–'],
    ['Country', c.country || '–'],
    ['Deals', `${Object.keys(c.open_deals || {}).length} open, ${c.deals_won} won, ${c.deals_lost} lost`],
    ['Orders', `${c.orders} (${money(c.order_value)})`],
    ['Promises', `${c.commitments_kept} kept, ${c.commitments_late} late, ${c.commitments_cancelled} cancelled`],
    ['Last contact', c.last_contact ? <><When at={c.last_contact.at} /> ({c.last_contact.channel}, {c.last_contact.by})</> : 'never'],
    ['Events', `${c.events}${c.corrections ? `, ${c.corrections} corrected` : ''}${c.retractions ? `, ${c.retractions} retracted` : ''}`],
  ];
  return (
    <dl class="profile">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd data-field={k.toLowerCase().replace(' ', '_')}>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function PersonalFields({ personal }) {
  if (!personal) return <span class="muted">no personal data recorded</span>;
  if (personal.erased) {
    return (
      <span class="erased" data-state="erased">
        erased: {personal.erased.reason} (position {personal.erased.position})
      </span>
    );
  }
  if (personal.sealed_for || personal.unavailable) {
    return <span class="sealed" data-state="sealed">sealed: {personal.unavailable || 'not opened for this role'}</span>;
  }
  return (
    <span data-state="open">
      {Object.entries(personal).map(([k, v]) => (
        <span key={k} class="pfield">
          <span class="muted">{k}</span> {String(v)}
        </span>
      ))}
    </span>
  );
}

function People({ people }) {
  return (
    <Paged items={people} per={10} empty="No contacts." label="people">
      {(page) => (
        <table class="people">
          <thead><tr><th>Contact</th><th>Role</th><th>Personal data</th><th>Last conversation</th></tr></thead>
          <tbody>
            {page.map((p) => (
              <tr key={p.contact_id || 'self'} data-contact={p.contact_id}>
                <td>{p.contact_id || 'the customer'}{p.key_contact ? ' ★' : ''}</td>
                <td>{p.role || '–'}</td>
                <td><PersonalFields personal={p.personal} /></td>
                <td>{p.last_conversation ? <><When at={p.last_conversation.at} date /> {p.last_conversation.channel}</> : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Paged>
  );
}

function OpenItems({ c }) {
  const requests = Object.entries(c.open_requests || {});
  const promises = Object.entries(c.open_commitments || {});
  const now = Date.now();
  return (
    <div class="split">
      <div>
        <h3>Open requests ({requests.length})</h3>
        <Paged items={requests} per={8} empty="No open requests." label="requests">
          {(page) => (
            <ul class="items">
              {page.map(([id, r]) => (
                <li key={id}>
                  <strong>{r.title}</strong> <span class="muted">{id}</span>
                  <br />
                  opened <When at={r.opened_at} date />, with <StaffLink id={r.assignee} />
                  {!r.first_response_at && <span class="warn"> · unanswered</span>}
                </li>
              ))}
            </ul>
          )}
        </Paged>
      </div>
      <div>
        <h3>Open promises ({promises.length})</h3>
        <Paged items={promises} per={8} empty="No open promises." label="promises">
          {(page) => (
            <ul class="items">
              {page.map(([id, p]) => (
                <li key={id}>
                  <strong>{p.promise}</strong> <span class="muted">{id}</span>
                  <br />
                  <StaffLink id={p.owner} /> · due <When at={p.due_at} date />
                  {p.due_moved_from && (
                    <span class="warn">
                      {' '}
                      · moved from <When at={p.due_moved_from} date /> after it passed
                    </span>
                  )}
                  {/* judged against the date that passed when it was moved afterwards */}
                  {(p.due_moved_from || p.due_at) && Date.parse(p.due_moved_from || p.due_at) < now && (
                    <span class="warn"> · overdue</span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Paged>
      </div>
    </div>
  );
}

// The chain of custody as a time bar: one stretch per owner, with the reason.
function CustodyBar({ custody }) {
  if (!custody || custody.length === 0) return <p class="muted">Nobody has owned this customer.</p>;
  const start = Date.parse(custody[0].from);
  const end = Math.max(Date.now(), ...custody.map((s) => (s.to ? Date.parse(s.to) : 0)));
  const span = Math.max(1, end - start);
  const colors = ['#3b6ea8', '#d08a2c', '#4c9a6a', '#a34f8f', '#8a7a2b', '#2b8a8a'];
  const owners = [...new Set(custody.map((s) => s.owner))];
  return (
    <div>
      <div class="custody-bar" role="list" aria-label="chain of custody">
        {custody.map((s) => {
          const from = Date.parse(s.from);
          const to = s.to ? Date.parse(s.to) : end;
          return (
            <div
              role="listitem"
              key={s.position}
              class="stretch"
              style={{ left: `${((from - start) / span) * 100}%`, width: `${Math.max(0.5, ((to - from) / span) * 100)}%`, background: colors[owners.indexOf(s.owner) % colors.length] }}
              title={`${s.owner}: ${s.reason}`}
            />
          );
        })}
      </div>
      <ol class="custody">
        {custody.map((s) => (
          <li key={s.position}>
            <StaffLink id={s.owner} /> from <When at={s.from} /> {s.to ? <>to <When at={s.to} /></> : '(now)'} ·{' '}
            <em>{s.reason}</em>
            {s.handover_id && <> (handover {s.handover_id})</>} · assigned by {s.assigned_by}
          </li>
        ))}
      </ol>
    </div>
  );
}

function Timeline({ id, asOf, mode, live }) {
  const state = useApi(`/v1/customers/${encodeURIComponent(id)}/timeline`);
  const [type, setType] = useState('');
  const [added, setAdded] = useState([]);
  const [feedError, setFeedError] = useState(null);
  useEffect(() => {
    setAdded([]);
    if (!live || !state.data) return undefined;
    const from = state.data.length ? state.data[state.data.length - 1].position + 1 : 0;
    return subscribe(`stream=${encodeURIComponent(id)}&from=${from}`, (e) => setAdded((a) => [...a, e]), setFeedError);
  }, [id, live, state.data]);
  const events = useMemo(() => {
    const all = [...(state.data || []), ...added];
    const cut = asOf ? Date.parse(asOf) : null;
    const field = mode === 'business' ? 'occurred_at' : 'recorded_at';
    return all.filter((e) => (!type || e.type === type) && (cut === null || Date.parse(e[field]) <= cut)).reverse();
  }, [state.data, added, type, asOf, mode]);
  const types = useMemo(() => [...new Set((state.data || []).map((e) => e.type))].sort(), [state.data]);
  return (
    <Loaded state={state}>
      {() => (
        <div>
          <div class="toolbar">
            <label>
              Show{' '}
              <select name="type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
                <option value="">every type</option>
                {types.map((t) => <option key={t} value={t}>{t}</option>)}
              </select>
            </label>
            {live && <span class="live" title="new events appear as they are recorded">● live</span>}
            {asOf && <span class="muted"> only what {mode === 'business' ? 'had happened' : 'was recorded'} by then</span>}
          </div>
          <Problem error={feedError} />
          <Paged items={events} per={25} empty="No events." label="timeline">
            {(page) => (
              <ol class="timeline">
                {page.map((e) => (
                  <li key={e.position} data-type={e.type} class={e.timeline?.fixes?.length ? 'fixed' : ''}>
                    <div class="when"><When at={e.occurred_at} /></div>
                    <div>
                      <code>{e.type}</code> by <StaffLink id={e.actor} />{' '}
                      {e.timeline?.late && <span class="badge late" title={`recorded ${e.recorded_at}`}>late entry</span>}
                      {e.recorded_by && (
                        <span class="muted via" title="the API token that appended this event (the actor is its producer's word)">
                          {' '}via {e.recorded_by}
                        </span>
                      )}
                      <div>{e.timeline?.summary || JSON.stringify(e.data)}</div>
                      {e.timeline?.backfill && <div class="muted">{e.timeline.backfill}</div>}
                      {(e.timeline?.fixes || []).map((f) => (
                        <div key={f.position} class={`fix ${f.kind}`}>
                          {f.kind} by {f.actor} (position {f.position}): {f.summary}
                        </div>
                      ))}
                    </div>
                  </li>
                ))}
              </ol>
            )}
          </Paged>
        </div>
      )}
    </Loaded>
  );
}

function BundleDownload({ id }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const text = await api(`/v1/bundles/${encodeURIComponent(id)}`, { raw: true });
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      a.download = `${id}-evidence.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" onClick={download} disabled={busy}>
        {busy ? 'Preparing…' : 'Download evidence bundle'}
      </button>
      <Problem error={error} />
    </>
  );
}

export function Customer({ me, id, query }) {
  const asOf = query.get('as_of') || '';
  const mode = query.get('mode') || 'knowledge';
  const param = asOf ? `?${mode === 'business' ? 'as_of_business' : 'as_of'}=${encodeURIComponent(asOf)}` : '';
  const state = useApi(`/v1/customers/${encodeURIComponent(id)}${param}`);
  // As of a time the answer wraps the customer: {as_of, by, customer, events_folded, ...}.
  const profile = (d) => (d && d.as_of && d.customer ? d.customer : d);
  const setAsOf = (utc, kind) => {
    location.hash = utc ? `#/customers/${encodeURIComponent(id)}?as_of=${encodeURIComponent(utc)}&mode=${kind}` : `#/customers/${encodeURIComponent(id)}`;
  };
  return (
    <div>
      <header class="page-head">
        <h1>
          <CustomerLink id={id} name={profile(state.data)?.name} />
        </h1>
        <AsOfControl asOf={asOf} mode={mode} onChange={setAsOf} />
        {asOf && (
          <p class="asof-note" role="status">
            As of <When at={asOf} /> ({mode === 'business' ? 'business time' : 'knowledge time'}).
          </p>
        )}
      </header>
      <Loaded state={state}>
        {(d) => {
          const c = profile(d);
          return (
          <div class="grid">
            <Section title="Profile" id="c-profile"><Profile c={c} /></Section>
            <Section title="People" id="c-people"><People people={c.people || []} /></Section>
            <Section title="What is open" id="c-open"><OpenItems c={c} /></Section>
            <Section title="Chain of custody" id="c-custody"><CustodyBar custody={c.custody} /></Section>
            <Section title="Timeline" id="c-timeline"><Timeline id={id} asOf={asOf} mode={mode} live={!asOf} /></Section>
            {(me.role === 'auditor' || me.role === 'admin') && (
              <Section title="Evidence" id="c-evidence"><BundleDownload id={id} /></Section>
            )}
          </div>
          );
        }}
      </Loaded>
    </div>
  );
}
