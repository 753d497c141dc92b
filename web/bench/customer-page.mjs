// Time until a customer page of 1,000 events is interactive, on the demo
// store, in Debian's Chromium (issue 18's figure, recorded in
// docs/performance.md; measured, never asserted).
//
//   cd web && CUSTODIAN_BIN=../build/tools/custodian CUSTODIAN_WEB=../build/ui \
//     node bench/customer-page.mjs [--runs 15] [--events 1000]
//
// It makes the tests' demo company (tests/fixture.mjs), tops the handed-over
// customer up to --events events with interactions appended over the API,
// then, --runs times, opens the customer's page in a fresh browser context
// (signed in as the manager) and reads the browser's clock when the profile,
// the people and the first page of the timeline are on screen and the next
// frame has run. Peers in the same run: the shell alone (the sign-in page:
// index.html, app.js, app.css) and the two API calls the page waits for,
// made from Node.
import { randomUUID } from 'node:crypto';
import { startCompany } from '../tests/fixture.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const runs = arg('runs', 15);
const target = arg('events', 1000);

const stats = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const at = (p) => v[Math.min(v.length - 1, Math.round(p * (v.length - 1)))];
  return { median: at(0.5), p90: at(0.9), min: v[0], max: v[v.length - 1] };
};
const ms = (x) => `${x.toFixed(0)} ms`;

const company = await startCompany();
try {
  const id = company.tour.handed_over_customer;
  const before = (await company.call('admin', `/v1/customers/${id}`)).body;
  const owner = before.owner;
  let events = before.events;
  // Top up to the target: one interaction an hour, ending yesterday, 200 per request.
  const missing = Math.max(0, target - events);
  const end = Date.now() - 86400e3;
  for (let done = 0; done < missing; done += 200) {
    const batch = [];
    for (let i = done; i < Math.min(missing, done + 200); ++i) {
      batch.push({
        id: randomUUID(), stream: id, type: 'interaction.logged', actor: owner, source: 'crm',
        occurred_at: new Date(end - (missing - i) * 3600e3).toISOString().replace(/\.\d+Z$/, 'Z'),
        data: { channel: 'call', direction: 'outbound', summary: `follow-up call ${i + 1}` },
      });
    }
    const r = await company.call('ingest', `/v1/streams/${id}/events`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(batch),
    });
    if (r.status !== 201) throw new Error(`append: ${r.status} ${r.text}`);
  }
  const after = (await company.call('admin', `/v1/customers/${id}?min_position=0`)).body;
  events = after.events;

  const token = company.tokens.manager;
  const shell = [];
  const page = [];
  const api = [];
  for (let run = 0; run < runs + 1; ++run) {
    // The API calls alone, as the page makes them.
    const t0 = performance.now();
    await Promise.all([company.call('manager', `/v1/customers/${id}`), company.call('manager', `/v1/customers/${id}/timeline`)]);
    const apiMs = performance.now() - t0;

    const context = await company.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await context.newPage();
    await p.goto(`${company.url}/`);
    await p.getByLabel('Token').waitFor();
    const shellMs = await p.evaluate(() => performance.now());
    await p.close();

    await context.addInitScript((t) => sessionStorage.setItem('custodian.token', t), token);
    const q = await context.newPage();
    await q.goto(`${company.url}/#/customers/${id}`);
    await q.locator('dd[data-field="owner"]').waitFor();
    await q.locator('ol.timeline li').first().waitFor();
    await q.locator('main').getByText('Loading…').first().waitFor({ state: 'detached' });
    const pageMs = await q.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(() => r(performance.now()), 0))));
    const shown = await q.locator('ol.timeline li').count();
    await context.close();
    if (run === 0) continue; // warm-up
    shell.push(shellMs);
    page.push(pageMs);
    api.push(apiMs);
    if (shown === 0) throw new Error('the timeline showed nothing');
  }
  const out = { customer: id, events, runs, page: stats(page), shell: stats(shell), api: stats(api) };
  console.log(JSON.stringify(out));
  console.log(`customer page of ${events} events, ${runs} runs after one warm-up, in Chromium at 1280x800:`);
  for (const [name, s] of [['page interactive', out.page], ['shell only (sign-in page)', out.shell], ['the two API calls from Node', out.api]]) {
    console.log(`  ${name.padEnd(30)} median ${ms(s.median)}, p90 ${ms(s.p90)}, min ${ms(s.min)}, max ${ms(s.max)}`);
  }
} finally {
  await company.stop();
}
