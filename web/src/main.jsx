// Custodian's web UI: a single-page app over the public API (docs/http-api.md).
// Every page reads with the signed-in user's token, so the server checks the
// role and records every read; the UI itself decides nothing about access.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setToken, token } from './api.js';
import { Customer } from './customer.jsx';
import { Briefing, Handover } from './handover.jsx';
import { Home } from './home.jsx';
import { Access } from './access.jsx';
import { Audit } from './audit.jsx';
import { Search, SignIn, Staff } from './pages.jsx';
import { Problem } from './ui.jsx';
import './style.css';

// "#/customers/customer-1002?as_of=..." -> { parts: ['customers', 'customer-1002'], query }
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const on = () => setRoute(parseHash());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Page({ me, route }) {
  const [what, id] = route.parts;
  if (!what) return <Home me={me} />;
  if (what === 'customers' && id) return <Customer key={id} me={me} id={id} query={route.query} />;
  if (what === 'staff' && id) return <Staff key={id} me={me} id={id} />;
  if (what === 'search') return <Search />;
  if (what === 'audit') return <Audit />;
  if (what === 'access') return <Access query={route.query} />;
  if (what === 'handover') return <Handover me={me} query={route.query} />;
  if (what === 'briefing' && id) return <Briefing key={id} id={id} forStaff={route.query.get('for')} />;
  return <Problem error={{ status: 404, message: `no page ${location.hash}` }} />;
}

function App() {
  const [me, setMe] = useState(null);
  const [checked, setChecked] = useState(!token());
  const [reason, setReason] = useState('');
  const route = useRoute();
  useEffect(() => {
    if (!token()) return;
    api('/v1/me').then(
      (m) => {
        setMe(m);
        setChecked(true);
      },
      (e) => {
        setToken('');
        setReason(e.status === 401 ? 'The token is no longer valid: sign in again.' : e.message);
        setChecked(true);
      },
    );
  }, []);
  if (!checked) return <p class="muted">Loading…</p>;
  if (!me) return <SignIn reason={reason} onSignedIn={setMe} />;
  const signOut = () => {
    setToken('');
    setMe(null);
    location.hash = '';
  };
  const company = me.role === 'auditor' || me.role === 'admin';
  return (
    <>
      <a class="skip" href="#main">Skip to the page</a>
      <header class="top">
        <a class="brand" href="#/">Custodian</a>
        <nav aria-label="main">
          <a href="#/">Home</a>
          <a href="#/search">Search</a>
          {me.staff && me.role !== 'ingest' && <a href={`#/staff/${encodeURIComponent(me.staff)}`}>Me</a>}
          {me.role !== 'rep' && <a href="#/handover">Departures</a>}
          {company && <a href="#/access">Access</a>}
          {company && <a href="#/audit">Audit</a>}
        </nav>
        <span class="who" data-role={me.role}>
          {me.staff || me.name} · <strong>{me.role}</strong>
          {me.personal_data === 'sealed' && <span class="muted"> (personal data sealed)</span>}
        </span>
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabindex="-1">
        {me.role === 'ingest' ? (
          <Problem error={{ status: 403, message: 'an ingest token appends events and reads nothing' }} />
        ) : (
          <Page me={me} route={route} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app'));
