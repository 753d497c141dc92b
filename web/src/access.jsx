// Access and alerts (auditor, admin): one person's daily views and exports
// against their own 30-day baseline, with their departure announcement
// marked; the alerts about them with their evidence; and who read a customer,
// newest first.
// Every listing here names customers, so the server records each as a read.
import { useState } from 'preact/hooks';
import { Bars } from './chart.jsx';
import { When } from './format.jsx';
import { AlertList } from './home.jsx';
import { Loaded, PagedTable, Section, StaffLink, useApi } from './ui.jsx';
import { dailyAccess, lastDays } from './stats.js';

const DAYS = 60;

function Daily({ staff, events, departure }) {
  const days = lastDays(new Date(), DAYS);
  const daily = dailyAccess(events, days);
  const labels = days.map((d) => d.slice(5));
  const announced = departure?.announced_at ? days.indexOf(departure.announced_at.slice(0, 10)) : -1;
  const marks = announced >= 0 ? [{ index: announced, label: 'departure announced' }] : [];
  const total = (k) => daily.reduce((n, d) => n + d[k], 0);
  return (
    <>
      <p data-daily={staff}>
        In the last {DAYS} days: {total('views')} views and {total('exported')} records exported.
        {departure && (
          <>
            {' '}Departure announced <When at={departure.announced_at} date />, leaving <When at={departure.effective_at} date />
            {announced < 0 && ' (before this window)'}.
          </>
        )}
      </p>
      <Bars title={`${staff}: views per day, and their median over the 30 days before`} labels={labels} yLabel="views" marks={marks}
        series={[
          { label: 'views', values: daily.map((d) => d.views), color: '#3b6ea8' },
          { label: '30-day median', values: daily.map((d) => d.views_baseline), color: '#1d2430', line: true },
        ]} />
      <Bars title={`${staff}: records exported per day, and their median over the 30 days before`} labels={labels} yLabel="records" marks={marks}
        series={[
          { label: 'records exported', values: daily.map((d) => d.exported), color: '#d08a2c' },
          { label: '30-day median', values: daily.map((d) => d.exported_baseline), color: '#1d2430', line: true },
        ]} />
    </>
  );
}

function Person({ staff }) {
  const from = new Date(Date.now() - (DAYS + 31) * 86400e3).toISOString().replace(/\.\d+Z$/, 'Z');
  const events = useApi(`/v1/access?staff=${encodeURIComponent(staff)}&from=${encodeURIComponent(from)}`);
  const departures = useApi('/v1/departures?all=1');
  const alerts = useApi('/v1/alerts');
  return (
    <>
      <Section title={`Reads and exports of ${staff}`} id="x-daily">
        <Loaded state={events}>
          {(rows) => (
            <Loaded state={departures}>
              {(deps) => <Daily staff={staff} events={rows} departure={deps.find((d) => d.staff === staff)} />}
            </Loaded>
          )}
        </Loaded>
      </Section>
      <Section title={`Alerts about ${staff}`} id="x-alerts">
        <Loaded state={alerts}>
          {(rows) => <AlertList rows={rows.filter((a) => a.staff === staff).reverse()} empty={`No alert about ${staff}.`} />}
        </Loaded>
      </Section>
    </>
  );
}

function WhoRead({ customer }) {
  const state = useApi(`/v1/access?customer=${encodeURIComponent(customer)}`);
  return (
    <Section title={`Who read ${customer}`} id="x-readers">
      <Loaded state={state}>
        {(rows) => (
          <PagedTable items={[...rows].reverse()} per={15} empty={`Nobody read ${customer}.`} label="reads"
            head={['When', 'Who', 'What', 'Records', 'Customers in the read']}
            row={(r) => (
              <tr key={`${r.position}`} data-reader={r.staff}>
                <td><When at={r.at} /></td>
                <td><StaffLink id={r.staff} /></td>
                <td>{r.type === 'data.exported' ? 'export' : 'view'}: {r.view}</td>
                <td class="num">{r.records}</td>
                <td class="num">{r.customers_in_read}</td>
              </tr>
            )} />
        )}
      </Loaded>
    </Section>
  );
}

export function Access({ query }) {
  const staff = query.get('staff') || '';
  const customer = query.get('customer') || '';
  const [staffInput, setStaffInput] = useState(staff);
  const [customerInput, setCustomerInput] = useState(customer);
  const go = (e, key, value) => {
    e.preventDefault();
    const q = new URLSearchParams(query);
    const v = value.trim();
    if (v) q.set(key, /^\d+$/.test(v) ? `${key}-${v}` : v);
    else q.delete(key);
    location.hash = `#/access?${q}`;
  };
  return (
    <div>
      <h1>Access and alerts</h1>
      <div class="toolbar">
        <form onSubmit={(e) => go(e, 'staff', staffInput)}>
          <label>
            Person <input name="staff" placeholder="staff-4" value={staffInput} onInput={(e) => setStaffInput(e.currentTarget.value)} />
          </label>{' '}
          <button type="submit">Show their reads</button>
        </form>
        <form onSubmit={(e) => go(e, 'customer', customerInput)}>
          <label>
            Customer <input name="customer" placeholder="customer-1002" value={customerInput} onInput={(e) => setCustomerInput(e.currentTarget.value)} />
          </label>{' '}
          <button type="submit">Who read it</button>
        </form>
      </div>
      <div class="grid">
        {staff && <Person key={staff} staff={staff} />}
        {customer && <WhoRead key={customer} customer={customer} />}
        {!staff && !customer && <p class="muted">Name a person to see their reads and exports against their own baseline, or a customer to see who read it. Alerts name people: <a href="#/">Home</a> lists the recent ones.</p>}
      </div>
    </div>
  );
}
