// Staff, search, audit and sign-in pages.
import { useState } from 'preact/hooks';
import { api, setToken } from './api.js';
import { duration } from './format.jsx';
import { PortfolioTable } from './home.jsx';
import { CustomerLink, Loaded, Paged, Problem, Section, useApi } from './ui.jsx';

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

export function Staff({ id }) {
  const portfolio = useApi(`/v1/staff/${encodeURIComponent(id)}/portfolio`);
  const accountability = useApi(`/v1/accountability?staff=${encodeURIComponent(id)}`);
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
                <dl class="profile">
                  <div><dt>Requests</dt><dd>{r.requests} ({r.unanswered} unanswered)</dd></div>
                  <div><dt>First response</dt><dd>median {duration(r.median_first_response_seconds)}, p90 {duration(r.p90_first_response_seconds)}</dd></div>
                  <div><dt>Promises</dt><dd>{r.commitments}: {r.kept_on_time} kept on time, {r.kept_late} late, {r.overdue} overdue, {r.pending} pending</dd></div>
                </dl>
              );
            }}
          </Loaded>
        </Section>
        <Section title="Portfolio" id="s-portfolio">
          <Loaded state={portfolio}>{(rows) => <PortfolioTable rows={rows} />}</Loaded>
        </Section>
      </div>
    </div>
  );
}

export function Search() {
  const [kind, setKind] = useState('email');
  const [value, setValue] = useState('');
  const [path, setPath] = useState(null);
  const found = useApi(path);
  const submit = (e) => {
    e.preventDefault();
    const v = value.trim();
    if (!v) return;
    if (kind === 'customer') {
      location.hash = `#/customers/${encodeURIComponent(/^\d+$/.test(v) ? `customer-${v}` : v)}`;
      return;
    }
    setPath(`/v1/people?${kind}=${encodeURIComponent(v)}`);
  };
  return (
    <div>
      <h1>Search</h1>
      <form class="search" onSubmit={submit} role="search">
        <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)} aria-label="search by">
          <option value="email">person by e-mail</option>
          <option value="phone">person by phone</option>
          <option value="name">person by name</option>
          <option value="customer">customer by id</option>
        </select>
        <input name="q" value={value} onInput={(e) => setValue(e.currentTarget.value)} aria-label="search for" required />
        <button type="submit">Find</button>
      </form>
      <p class="muted">People are found through the blind index: the store keeps no plaintext index of names, e-mails or phones.</p>
      {path && (
        <Loaded state={found}>
          {(r) => (
            <Paged items={r.people} empty={`Nobody with that ${r.by}.`} label="people found">
              {(page) => (
                <table>
                  <thead><tr><th>Customer</th><th>Contact</th><th>Role</th><th>Name</th></tr></thead>
                  <tbody>
                    {page.map((p) => (
                      <tr key={p.subject}>
                        <td><CustomerLink id={p.customer} /></td>
                        <td>{p.contact_id || 'the customer'}{p.removed ? ' (no longer a contact)' : ''}</td>
                        <td>{p.role || '–'}</td>
                        <td>{p.state === 'erased' ? <span class="erased">erased</span> : p.fields?.name || '–'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Paged>
          )}
        </Loaded>
      )}
    </div>
  );
}

