// Staff, search, audit and sign-in pages.
import { useState } from 'preact/hooks';
import { api, setToken } from './api.js';
import { Bars } from './chart.jsx';
import { duration } from './format.jsx';
import { lastMonths, responseByMonth } from './stats.js';
import { PortfolioTable } from './home.jsx';
import { CustomerLink, Loaded, PagedTable, Problem, Section, StaffLink, useApi } from './ui.jsx';

export function SignIn({ onSignedIn, reason }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setToken(value.trim());
    try {
      const me = await api('/v1/me');
      onSignedIn(me);
    } catch (err) {
      setToken('');
      setError(err);
    }
  };
  return (
    <main class="signin">
      <h1>Custodian</h1>
      <p>Sign in with the token an administrator made for you (<code>custodian token create</code>). It is kept for this tab only.</p>
      {reason && <p class="problem" role="alert">{reason}</p>}
      <form onSubmit={submit}>
        <label>
          Token
          <input type="password" name="token" autocomplete="off" required value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        </label>
        <button type="submit">Sign in</button>
      </form>
      <Problem error={error} />
    </main>
  );
}

// First response over the last 12 months: median and p90 by month of opening.
export function ResponseOverTime({ rows, title }) {
  const months = lastMonths(new Date(), 12);
  const byMonth = responseByMonth(rows.filter((r) => r.kind === 'request'), months);
  if (byMonth.every((m) => m.answered === 0)) return <p class="muted">No request answered in the last 12 months.</p>;
  return (
    <Bars title={title} labels={months.map((m) => m.slice(2))} yLabel="hours"
      series={[
        { label: 'median', values: byMonth.map((m) => m.median), color: '#3b6ea8' },
        { label: 'p90', values: byMonth.map((m) => m.p90), color: '#d08a2c' },
      ]} />
  );
}

// The team most of a person's requests were opened in.
function teamOf(rows) {
  const counts = new Map();
  for (const r of rows) if (r.kind === 'request' && r.team) counts.set(r.team, (counts.get(r.team) || 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] || '';
}

function TeamResponse({ team }) {
  const state = useApi(`/v1/accountability?team=${encodeURIComponent(team)}`);
  return (
    <Section title={`Team ${team}: first response over time`} id="s-team">
      <Loaded state={state}>
        {(rows) => <ResponseOverTime rows={rows} title={`Team ${team}: first response by month opened (hours)`} />}
      </Loaded>
    </Section>
  );
}

export function Staff({ me, id }) {
  const portfolio = useApi(`/v1/staff/${encodeURIComponent(id)}/portfolio`);
  const accountability = useApi(`/v1/accountability?staff=${encodeURIComponent(id)}`);
  const team = accountability.data ? teamOf(accountability.data) : '';
  return (
    <div>
      <h1>{id}</h1>
      <div class="grid">
        <Section title="Accountability" id="s-acc">
          <Loaded state={accountability}>
            {(rows) => {
              const r = rows.find((x) => x.kind === 'staff') || rows[0];
              if (!r) return <p class="muted">No requests or promises.</p>;
              return (
                <>
                  <dl class="profile">
                    <div><dt>Requests</dt><dd>{r.requests} ({r.unanswered} unanswered)</dd></div>
                    <div><dt>First response</dt><dd>median {duration(r.median_first_response_seconds)}, p90 {duration(r.p90_first_response_seconds)}</dd></div>
                    <div><dt>Promises</dt><dd>{r.commitments}: {r.kept_on_time} kept on time, {r.kept_late} late, {r.overdue} overdue, {r.pending} pending</dd></div>
                    {r.entered_late > 0 && (
                      <div data-field="entered-late"><dt>Entered late</dt>
                        <dd class="warn">{r.entered_late} first responses or promises' ends entered more than a day
                          later than they claim (the figures use the times claimed)</dd></div>
                    )}
                    {r.due_moved > 0 && (
                      <div data-field="due-moved"><dt>Due dates moved</dt>
                        <dd class="warn">{r.due_moved} {r.due_moved === 1 ? 'promise' : 'promises'} whose due date a correction moved later more
                          than a day after it had passed (each is judged against the date that passed)</dd></div>
                    )}
                  </dl>
                  <ResponseOverTime rows={rows} title={`${id}: first response by month opened (hours)`} />
                </>
              );
            }}
          </Loaded>
        </Section>
        {team && me.role !== 'rep' && <TeamResponse team={team} />}
        <Section title="Portfolio" id="s-portfolio">
          <Loaded state={portfolio}>{(rows) => <PortfolioTable rows={rows} />}</Loaded>
        </Section>
      </div>
    </div>
  );
}

function personName(p) {
  if (!p.personal) return '–';
  if (p.personal.erased) return <span class="erased" data-state="erased">erased</span>;
  if (p.personal.unavailable) return <span class="muted">{p.personal.unavailable}</span>;
  return p.personal.name || '–';
}

function PeopleFound({ r }) {
  return (
    <PagedTable items={r.people} empty={`Nobody with that ${r.by}.`} label="people found"
      head={['Customer', 'Contact', 'Role', 'Name', 'E-mail']}
      row={(p) => (
        <tr key={p.subject} data-subject={p.subject}>
          <td><CustomerLink id={p.customer} /></td>
          <td>{p.contact_id || 'the customer'}{p.removed ? ' (no longer a contact)' : ''}</td>
          <td>{p.role || '–'}</td>
          <td>{personName(p)}</td>
          <td>{p.personal?.email || '–'}</td>
        </tr>
      )} />
  );
}

function CustomersFound({ r }) {
  return (
    <>
      <PagedTable items={r.customers} empty="No customer you serve matches." label="customers found"
        head={['Customer', 'Owner', 'Team', 'Status']}
        row={(c) => (
          <tr key={c.id} data-customer={c.id}>
            <td><CustomerLink id={c.id} name={c.name} /></td>
            <td><StaffLink id={c.owner} /></td>
            <td>{c.team || '–'}</td>
            <td>{c.status}</td>
          </tr>
        )} />
      {r.more > 0 && <p class="muted">{r.more} more match: say more of the name.</p>}
      {r.not_searched?.length > 0 && (
        <p class="muted">Not searched, as one letter matches too much: {r.not_searched.join(' ')}</p>
      )}
    </>
  );
}

export function Search() {
  const [kind, setKind] = useState('customer');
  const [value, setValue] = useState('');
  const [path, setPath] = useState(null);
  const found = useApi(path);
  const submit = (e) => {
    e.preventDefault();
    const v = value.trim();
    if (!v) return;
    setPath(kind === 'customer' ? `/v1/customers?q=${encodeURIComponent(v)}` : `/v1/people?${kind}=${encodeURIComponent(v)}`);
  };
  return (
    <div>
      <h1>Search</h1>
      <form class="search" onSubmit={submit} role="search">
        <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)} aria-label="search by">
          <option value="customer">customer by name or id</option>
          <option value="email">person by e-mail</option>
          <option value="phone">person by phone</option>
          <option value="name">person by name</option>
        </select>
        <input name="q" value={value} onInput={(e) => setValue(e.currentTarget.value)} aria-label="search for" required />
        <button type="submit">Find</button>
      </form>
      <p class="muted">People are found through the blind index: the store keeps no plaintext index of names, e-mails or phones.</p>
      {path && <Loaded state={found}>{(r) => (r.people ? <PeopleFound r={r} /> : <CustomersFound r={r} />)}</Loaded>}
    </div>
  );
}
