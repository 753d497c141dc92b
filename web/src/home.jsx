// Home: what a manager looks at first. Each panel is one API listing; a rep
// sees the same panels cut to the customers they serve (the server cuts them).
import { useState } from 'preact/hooks';
import { Bars } from './chart.jsx';
import { count, duration, money, When } from './format.jsx';
import { AGE_BUCKETS, requestsByAge } from './stats.js';
import { CustomerLink, ListingSection, Loaded, Paged, PagedTable, Section, StaffLink, useApi } from './ui.jsx';

function Departures() {
  return (
    <ListingSection title="Departures in progress" id="h-departures" path="/v1/departures" empty="Nobody is leaving."
      label="departures" head={['Who', 'Leaves', 'Successor', 'Left with them', 'State']}
      row={(d) => (
        <tr key={d.staff}>
          <td><StaffLink id={d.staff} /></td>
          <td><When at={d.effective_at} date /></td>
          <td><StaffLink id={d.successor} /></td>
          <td>{count(d.customers, 'customer')}, {count(d.requests, 'request')}, {count(d.commitments, 'promise')}</td>
          <td>{d.complete ? <span class="ok">nothing left</span> : <span class="warn">open</span>}</td>
        </tr>
      )} />
  );
}

// GET /v1/silent holds two lists: customers nobody has contacted for 60
// days, and deals won or orders placed with no contact in the 60 days
// before them. One read (it is recorded), two panels.
const WHAT = { 'order.placed': 'order', 'deal.won': 'deal won' };

function Silent() {
  const state = useApi('/v1/silent?days=60');
  return (
    <>
      <Section title="Silent customers (no contact for 60 days)" id="h-silent">
        <Loaded state={state}>
          {(rows) => (
            <PagedTable items={rows.filter((r) => r.kind === 'silent')} per={10} label="silent customers"
              empty="Every customer was contacted in the last 60 days."
              head={['Customer', 'Owner', 'Last contact', 'Days']}
              row={(s) => (
                <tr key={s.customer}>
                  <td><CustomerLink id={s.customer} name={s.name} /></td>
                  <td><StaffLink id={s.owner} /></td>
                  <td><When at={s.last_contact_at} date /></td>
                  <td class="num">{s.days_silent}</td>
                </tr>
              )} />
          )}
        </Loaded>
      </Section>
      <Section title="Won or ordered with no contact in the 60 days before" id="h-uncontacted">
        <Loaded state={state}>
          {(rows) => (
            <PagedTable items={rows.filter((r) => r.kind === 'uncontacted_win')} per={10} label="sales without contact"
              empty="Every deal won and order placed followed a contact in the 60 days before."
              head={['Customer', 'What', 'When', 'By', 'Contact before']}
              row={(w) => (
                <tr key={`${w.customer} ${w.id}`}>
                  <td><CustomerLink id={w.customer} name={w.name} /></td>
                  <td>{WHAT[w.type] || w.type} {w.id}</td>
                  <td><When at={w.at} date /></td>
                  <td><StaffLink id={w.by} /></td>
                  <td><When at={w.last_contact_before} date /></td>
                </tr>
              )} />
          )}
        </Loaded>
      </Section>
    </>
  );
}

export function AlertList({ rows, empty = 'No alerts.' }) {
  return (
    <Paged items={rows} per={8} empty={empty} label="alerts">
      {(page) => (
        <ul class="alerts">
          {page.map((a) => (
            <li key={a.alert_id} class={`alert ${a.severity}`}>
              <div>
                <span class="badge">{a.severity}</span> <strong>{a.rule.replaceAll('_', ' ')}</strong> ·{' '}
                <StaffLink id={a.staff} /> · <When at={a.at} />
              </div>
              <p>{a.summary}</p>
              <details>
                <summary>Evidence ({count(a.evidence.length, 'event')})</summary>
                <p class="muted">
                  Window <When at={a.window_from} /> to <When at={a.window_to} />: {a.count} against a limit of {a.threshold}.
                </p>
                <ul class="evidence">
                  {a.evidence.map((id) => <li key={id}><code>{id}</code></li>)}
                </ul>
                {a.customers.length > 0 && (
                  <p>Customers: {a.customers.map((c) => <CustomerLink key={c} id={c} />)}</p>
                )}
              </details>
            </li>
          ))}
        </ul>
      )}
    </Paged>
  );
}

function Alerts() {
  const state = useApi('/v1/alerts');
  return (
    <Section title="Recent alerts" id="h-alerts">
      <Loaded state={state}>{(rows) => <AlertList rows={[...rows].reverse()} />}</Loaded>
    </Section>
  );
}

function Responsiveness() {
  const state = useApi('/v1/accountability');
  return (
    <Section title="Who answers slowly: first response, median and p90" id="h-speed">
      <Loaded state={state}>
        {(rows) => {
          const staff = rows.filter((r) => r.kind === 'staff' && r.requests > 0);
          staff.sort((a, b) => (b.median_first_response_seconds ?? 0) - (a.median_first_response_seconds ?? 0));
          const top = staff.slice(0, 12);
          const hours = (v) => (v === null || v === undefined ? null : Math.round((v / 3600) * 10) / 10);
          return (
            <>
              <Bars
                title="First response in hours (slowest first)"
                labels={top.map((r) => r.staff.replace('staff-', '#'))}
                yLabel="hours"
                series={[
                  { label: 'median', values: top.map((r) => hours(r.median_first_response_seconds)), color: '#3b6ea8' },
                  { label: 'p90', values: top.map((r) => hours(r.p90_first_response_seconds)), color: '#d08a2c' },
                ]}
              />
              <PagedTable items={staff} per={8} label="accountability"
                head={['Who', 'Requests', 'Unanswered', 'Median', 'p90', 'Promises overdue']}
                row={(r) => (
                  <tr key={r.staff}>
                    <td><StaffLink id={r.staff} /></td>
                    <td class="num">{r.requests}</td>
                    <td class="num">{r.unanswered}</td>
                    <td class="num">{duration(r.median_first_response_seconds)}</td>
                    <td class="num">{duration(r.p90_first_response_seconds)}</td>
                    <td class="num">{r.overdue}</td>
                  </tr>
                )} />
            </>
          );
        }}
      </Loaded>
    </Section>
  );
}

function Orphans() {
  return (
    <ListingSection title="Left behind by people who left" id="h-orphans" path="/v1/orphans" per={8}
      empty="Nothing is left with anyone who left." label="orphans" head={['Customer', 'Held by', 'Left', 'Requests', 'Promises']}
      row={(o) => (
        <tr key={`${o.customer}-${o.held_by}`}>
          <td><CustomerLink id={o.customer} /></td>
          <td><StaffLink id={o.held_by} /></td>
          <td><When at={o.departed_at} date /></td>
          <td class="num">{o.requests}</td>
          <td class="num">{o.commitments}</td>
        </tr>
      )} />
  );
}

function MyPortfolio({ me }) {
  const state = useApi(`/v1/staff/${encodeURIComponent(me.staff)}/portfolio`);
  return (
    <Section title="My customers" id="h-mine">
      <Loaded state={state}>{(rows) => <PortfolioTable rows={rows} />}</Loaded>
    </Section>
  );
}

export function PortfolioTable({ rows }) {
  return (
    <PagedTable items={rows} per={15} empty="No customers." label="portfolio"
      head={['Customer', 'Owned', 'Open deals', 'Open requests', 'Open promises', 'Last activity']}
      row={(p) => (
        <tr key={p.customer}>
          <td><CustomerLink id={p.customer} name={p.name} /></td>
          <td>{p.owned ? 'owner' : `worked on (owner ${p.owner || 'nobody'})`}</td>
          <td class="num">{p.open_deals}</td>
          <td class="num">{p.open_requests}</td>
          <td class="num">{p.open_commitments}</td>
          <td><When at={p.last_activity_at} /></td>
        </tr>
      )} />
  );
}

// The open deals by stage (GET /v1/pipeline), in the funnel's order.
function Pipeline({ team }) {
  const state = useApi(`/v1/pipeline${team ? `?team=${encodeURIComponent(team)}` : ''}`);
  return (
    <Section title={`Pipeline by stage${team ? `: team ${team}` : ''}`} id="h-pipeline">
      <Loaded state={state}>
        {(p) => {
          if (p.stages.length === 0) return <p class="muted">No open deals.</p>;
          // Chart the currency with the most value; the table gives every currency.
          const totals = new Map();
          for (const st of p.stages) for (const [cur, v] of Object.entries(st.value)) totals.set(cur, (totals.get(cur) || 0) + Number(v));
          const main = [...totals.entries()].sort((a, b) => b[1] - a[1])[0][0];
          return (
            <>
              <Bars title={`Open deals by stage: value in thousands of ${main}, and how many`} labels={p.stages.map((st) => st.stage)}
                yLabel={`k ${main}`}
                series={[
                  { label: `value (k ${main})`, values: p.stages.map((st) => Math.round(Number(st.value[main] || 0) / 100) / 10), color: '#3b6ea8' },
                  { label: 'deals', values: p.stages.map((st) => st.deals), color: '#d08a2c' },
                ]} />
              <table data-pipeline>
                <thead><tr><th>Stage</th><th>Deals</th><th>Value</th><th>Mean probability</th></tr></thead>
                <tbody>
                  {p.stages.map((st) => (
                    <tr key={st.stage} data-stage={st.stage}>
                      <td>{st.stage}</td>
                      <td class="num">{st.deals}</td>
                      <td class="num">{money(st.value)}</td>
                      <td class="num">{st.mean_probability ? `${st.mean_probability}%` : '–'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p class="muted">
                {p.customers} customers with open deals{p.unowned_customers ? `, ${p.unowned_customers} of them owned by nobody` : ''}.
              </p>
            </>
          );
        }}
      </Loaded>
    </Section>
  );
}

// The team's open requests by age, unanswered ones apart, and overdue
// promises (GET /v1/accountability?team=).
function Workload({ team }) {
  const state = useApi(`/v1/accountability?team=${encodeURIComponent(team)}`);
  return (
    <Section title={`Open requests by age and overdue promises: team ${team}`} id="h-workload">
      <Loaded state={state}>
        {(rows) => {
          const requests = rows.filter((r) => r.kind === 'request');
          const ages = requestsByAge(requests, new Date());
          const open = ages.reduce((n, b) => n + b.answered + b.unanswered, 0);
          const unanswered = ages.reduce((n, b) => n + b.unanswered, 0);
          const overdue = rows.filter((r) => r.kind === 'commitment' && r.outcome === 'overdue');
          return (
            <>
              <p data-workload>
                <strong>{open}</strong> open requests, <strong class={unanswered ? 'warn' : ''}>{unanswered}</strong> of them unanswered;{' '}
                <strong class={overdue.length ? 'warn' : ''}>{overdue.length}</strong> promises overdue.
              </p>
              <Bars title="Open requests by how long they have been open" labels={AGE_BUCKETS.map((b) => b.label)} yLabel="requests"
                series={[
                  { label: 'answered, still open', values: ages.map((b) => b.answered), color: '#3b6ea8' },
                  { label: 'unanswered', values: ages.map((b) => b.unanswered), color: '#b3261e' },
                ]} />
              <PagedTable items={overdue} per={8} empty="No promise is overdue." label="overdue promises"
                head={['Customer', 'Owner', 'Due', 'Promise']}
                row={(c) => (
                  <tr key={`${c.customer}-${c.commitment_id}`}>
                    <td><CustomerLink id={c.customer} /></td>
                    <td><StaffLink id={c.owner} /></td>
                    <td><When at={c.due_moved_from || c.due_at} date /></td>
                    <td><code>{c.commitment_id}</code></td>
                  </tr>
                )} />
            </>
          );
        }}
      </Loaded>
    </Section>
  );
}

// A company-wide reader picks a team (the teams the accountability summary names).
function TeamPicker({ team, onChange }) {
  const state = useApi('/v1/accountability');
  const teams = (state.data || []).filter((r) => r.kind === 'team' && r.team).map((r) => r.team);
  return (
    <label class="toolbar">
      Team{' '}
      <select name="team" value={team} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">every team</option>
        {teams.map((t) => <option key={t} value={t}>{t}</option>)}
      </select>
    </label>
  );
}

export function Home({ me }) {
  const company = me.role !== 'rep';
  // A manager sees their own team's; an auditor, an admin or a manager of no
  // team (a head of sales) picks one.
  const picks = company && !(me.role === 'manager' && me.team);
  const [picked, setPicked] = useState('');
  const team = picks ? picked : me.role === 'manager' ? me.team : '';
  return (
    <>
      {picks && <TeamPicker team={picked} onChange={setPicked} />}
      <div class="grid">
        {me.role === 'rep' && <MyPortfolio me={me} />}
        <Pipeline team={team} />
        {company && team && <Workload key={team} team={team} />}
        {company && <Departures />}
        <Silent />
        {company && <Responsiveness />}
        <Alerts />
        <Orphans />
      </div>
    </>
  );
}
