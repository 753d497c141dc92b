// Departures and handover: plan (one successor or balanced over a team),
// preview customer by customer with its risks, execute after a confirmation,
// and the successor's briefing (printable).
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { When } from './format.jsx';
import { CustomerLink, Loaded, Paged, Problem, Section, StaffLink, useApi } from './ui.jsx';

function PlanForm({ from: initialFrom, onPlanned }) {
  const [from, setFrom] = useState(initialFrom || '');
  const [mode, setMode] = useState('to');
  const [target, setTarget] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { from: from.trim() };
      body[mode] = target.trim();
      onPlanned(await api('/v1/handovers', { method: 'POST', body }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="plan" onSubmit={submit} aria-label="plan a handover">
      <label>
        Leaver <input name="from" value={from} required placeholder="staff-7" onInput={(e) => setFrom(e.currentTarget.value)} />
      </label>
      <label>
        <select name="mode" value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
          <option value="to">to one successor</option>
          <option value="team">balanced over a team</option>
        </select>
      </label>
      <label>
        {mode === 'to' ? 'Successor' : 'Team'}{' '}
        <input name="target" value={target} required placeholder={mode === 'to' ? 'staff-3' : 'north'} onInput={(e) => setTarget(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={busy}>{busy ? 'Planning…' : 'Preview the plan'}</button>
      <Problem error={error} />
    </form>
  );
}

function PlanPreview({ plan, onExecuted }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const execute = async () => {
    setBusy(true);
    setError(null);
    try {
      onExecuted(await api(`/v1/handovers/${encodeURIComponent(plan.handover_id)}/execute`, { method: 'POST' }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  const owned = plan.customers.filter((c) => c.owned).length;
  return (
    <div data-plan={plan.handover_id}>
      <p>
        Plan <strong>{plan.handover_id}</strong>: {plan.customers.length} customers of <StaffLink id={plan.from} /> {plan.mode}{' '}
        ({owned} owned{plan.customers.length > owned ? `, ${plan.customers.length - owned} where only open work is held` : ''});{' '}
        {plan.open_deals} open deals,{' '}
        {plan.open_requests} open requests, {plan.open_commitments} open promises. Nothing has moved yet.
      </p>
      <Paged items={plan.customers} per={10} label="planned customers">
        {(page) => (
          <table>
            <thead><tr><th>Customer</th><th>To</th><th>Open work</th><th>Risks</th></tr></thead>
            <tbody>
              {page.map((c) => (
                <tr key={c.customer}>
                  <td><CustomerLink id={c.customer} name={c.name} /></td>
                  <td><StaffLink id={c.successor} /></td>
                  <td>{c.open_deals} deals, {c.requests_held.length} requests, {c.commitments_held.length} promises</td>
                  <td>{c.risks.length ? <ul class="risks">{c.risks.map((r) => <li key={r} class="warn">{r}</li>)}</ul> : <span class="muted">none</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Paged>
      {!confirming ? (
        <button type="button" onClick={() => setConfirming(true)}>Execute this handover…</button>
      ) : (
        <div class="confirm" role="alertdialog" aria-label="confirm the handover">
          <p>
            Move {plan.customers.length} customers and every open request and promise from {plan.from} now? This is recorded in the log under your
            name and cannot be undone (only handed back by another handover).
          </p>
          <button type="button" onClick={execute} disabled={busy}>{busy ? 'Handing over…' : `Yes, hand over ${plan.customers.length} customers`}</button>{' '}
          <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
        </div>
      )}
      <Problem error={error} />
    </div>
  );
}

export function Briefing({ id, forStaff }) {
  const state = useApi(`/v1/handovers/${encodeURIComponent(id)}/report${forStaff ? `?for=${encodeURIComponent(forStaff)}` : ''}`);
  return (
    <article class="briefing">
      <div class="toolbar">
        <h1>Briefing for handover {id}</h1>
        <button type="button" onClick={() => window.print()}>Print</button>
      </div>
      <Loaded state={state}>
        {(rows) => (
          <>
            <p class="muted">{rows.length} customers from {rows[0]?.from}. Prepared from the Custodian log; this read is recorded.</p>
            {rows.map((r) => (
              <section class="card brief" key={r.customer} data-customer={r.customer}>
                <h2><CustomerLink id={r.customer} name={r.state.name} /> → {r.successor}</h2>
                <p>
                  {r.state.segment || '–'}, {r.state.country || '–'}, status {r.state.status}; last contact{' '}
                  <When at={r.state.last_contact?.at} date />.
                </p>
                <h3>People to call</h3>
                <ul>
                  {r.people.map((p) => (
                    <li key={p.contact_id}>
                      {p.role || p.contact_id}
                      {p.key_contact ? ' (key contact)' : ''}:{' '}
                      {p.personal?.erased ? <span class="erased">erased</span> : p.personal?.name ? `${p.personal.name}${p.personal.phone ? `, ${p.personal.phone}` : ''}${p.personal.email ? `, ${p.personal.email}` : ''}` : <span class="muted">no details</span>}
                    </li>
                  ))}
                </ul>
                <h3>Open requests and promises</h3>
                <ul>
                  {Object.entries(r.state.open_requests || {}).map(([rid, q]) => <li key={rid}>{q.title} ({rid}, opened <When at={q.opened_at} date />)</li>)}
                  {Object.entries(r.state.open_commitments || {}).map(([cid, c]) => <li key={cid}>{c.promise} ({cid}, due <When at={c.due_at} date />{c.due_moved_from && <>, moved from <When at={c.due_moved_from} date /> after it passed</>})</li>)}
                  {!Object.keys(r.state.open_requests || {}).length && !Object.keys(r.state.open_commitments || {}).length && <li class="muted">nothing open</li>}
                </ul>
                <h3>Last conversations</h3>
                <ul>
                  {(r.last_conversations || []).map((e) => (
                    <li key={e.id}><When at={e.occurred_at} date />: {e.data.channel} by {e.actor}: {e.data.summary || ''}</li>
                  ))}
                </ul>
              </section>
            ))}
          </>
        )}
      </Loaded>
    </article>
  );
}

export function Handover({ me, query }) {
  const departures = useApi(me.role === 'rep' ? null : '/v1/departures');
  const [plan, setPlan] = useState(null);
  const [done, setDone] = useState(null);
  const mayPlan = me.role === 'manager' || me.role === 'admin';
  return (
    <div>
      <h1>Departures and handover</h1>
      <div class="grid">
        <Section title="Departures" id="d-list">
          <Loaded state={departures}>
            {(rows) => (
              <Paged items={rows} empty="Nobody is leaving." label="departures">
                {(page) => (
                  <ul class="items">
                    {page.map((d) => (
                      <li key={d.staff}>
                        <StaffLink id={d.staff} /> leaves <When at={d.effective_at} date /> (announced <When at={d.announced_at} date />); left with them:{' '}
                        {d.customers} customers, {d.requests} requests, {d.commitments} promises
                        {mayPlan && !d.complete && <> · <a href={`#/handover?from=${encodeURIComponent(d.staff)}`}>plan their handover</a></>}
                      </li>
                    ))}
                  </ul>
                )}
              </Paged>
            )}
          </Loaded>
        </Section>
        {mayPlan && (
          <Section title="Plan a handover" id="d-plan">
            <PlanForm key={query.get('from') || ''} from={query.get('from') || ''} onPlanned={(p) => { setPlan(p); setDone(null); }} />
            {plan && !done && <PlanPreview plan={plan} onExecuted={setDone} />}
            {done && (
              <div role="status" data-done={done.handover_id}>
                <p class="ok">
                  Handover {done.handover_id} {done.already_done ? 'was already done' : 'done'}: {done.customers} customers, {done.owners_changed} owners changed,{' '}
                  {done.requests_moved} requests and {done.commitments_moved} promises moved; {done.orphans.length ? `${done.orphans.length} things still held by ${done.from}` : 'nothing left behind'}.
                </p>
                <a href={`#/briefing/${encodeURIComponent(done.handover_id)}`}>Open the successor's briefing</a>
              </div>
            )}
          </Section>
        )}
      </div>
    </div>
  );
}
