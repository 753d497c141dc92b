// Shared pieces: loading an API path, paged lists, errors.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';

// { data, error, loading } for GET `path` (null: nothing to load), reloaded
// when `path` changes.
export function useApi(path) {
  const [state, setState] = useState({ path, data: null, error: null, loading: !!path });
  useEffect(() => {
    if (!path) return undefined;
    let live = true;
    setState((s) => ({ ...s, path, loading: true, error: null }));
    api(path).then(
      (data) => live && setState({ path, data, error: null, loading: false }),
      (error) => live && setState({ path, data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path]);
  // Between a change of path and its answer, what was shown for the old path is not shown.
  if (state.path !== path) return { path, data: null, error: null, loading: !!path };
  return state;
}

export function Problem({ error }) {
  if (!error) return null;
  const what = error.status === 403 ? 'Not allowed' : error.status === 404 ? 'Not found' : 'Could not load';
  return (
    <p class="problem" role="alert">
      <strong>{what}:</strong> {error.message}
    </p>
  );
}

// Shows `data` through `children(data)` once loaded.
export function Loaded({ state, children }) {
  if (state.error) return <Problem error={state.error} />;
  if (state.loading || state.data === null) return <p class="muted" aria-busy="true">Loading…</p>;
  return children(state.data);
}

// A list shown a page at a time (every list in the UI is paged).
export function Paged({ items, per = 20, empty = 'Nothing here.', label, children }) {
  const [page, setPage] = useState(0);
  useEffect(() => setPage(0), [items]);
  if (!items || items.length === 0) return <p class="muted">{empty}</p>;
  const pages = Math.ceil(items.length / per);
  const shown = items.slice(page * per, page * per + per);
  return (
    <div class="paged">
      {children(shown)}
      {pages > 1 && (
        <nav class="pager" aria-label={`${label || 'list'} pages`}>
          <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
            ‹ Previous
          </button>
          <span>
            {page * per + 1}–{Math.min(items.length, page * per + per)} of {items.length}
          </span>
          <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
            Next ›
          </button>
        </nav>
      )}
    </div>
  );
}

// A paged table: `head`, the column titles; `row(item)`, one <tr>.
export function PagedTable({ items, per, empty, label, head, row }) {
  return (
    <Paged items={items} per={per} empty={empty} label={label}>
      {(page) => (
        <table>
          <thead><tr>{head.map((h) => <th key={h}>{h}</th>)}</tr></thead>
          <tbody>{page.map(row)}</tbody>
        </table>
      )}
    </Paged>
  );
}

// A section that lists what GET `path` returns as a paged table.
export function ListingSection({ title, id, path, ...table }) {
  const state = useApi(path);
  return (
    <Section title={title} id={id}>
      <Loaded state={state}>{(rows) => <PagedTable items={rows} {...table} />}</Loaded>
    </Section>
  );
}

export function Section({ title, children, id }) {
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function CustomerLink({ id, name }) {
  return <a href={`#/customers/${encodeURIComponent(id)}`}>{name ? `${name} (${id})` : id}</a>;
}
export function StaffLink({ id }) {
  if (!id) return <span class="muted">nobody</span>;
  if (!id.startsWith('staff-')) return <span>{id}</span>;
  return <a href={`#/staff/${encodeURIComponent(id)}`}>{id}</a>;
}
