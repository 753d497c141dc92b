// Home's pipeline and workload, a person's first response over time, and
// the access page (daily reads and exports against the person's own
// baseline with the departure marked; who read a customer), in Chromium.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { screenshots, shoot, signIn, startCompany } from './fixture.mjs';

let company;
before(async () => {
  company = await startCompany();
});
after(async () => {
  await company?.stop();
});

const lines = (text) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

test("a manager's home shows a team's pipeline by stage and value, and its open requests by age", async () => {
  // The demo's reader heads sales and has no team of their own, so they pick one, as an admin does.
  const me = (await company.call('manager', '/v1/me')).body;
  const teams = lines((await company.call('manager', '/v1/accountability')).text).filter((r) => r.kind === 'team' && r.team);
  const team = me.team || teams[0]?.team;
  assert.ok(team, 'a team to look at');
  const pipeline = (await company.call('manager', `/v1/pipeline?team=${team}`)).body;
  assert.ok(pipeline.stages.length > 0, 'the team has open deals');
  const account = lines((await company.call('manager', `/v1/accountability?team=${team}`)).text);
  const open = account.filter((r) => r.kind === 'request' && !r.resolved_at);
  const unanswered = open.filter((r) => r.unanswered).length;
  const overdue = account.filter((r) => r.kind === 'commitment' && r.outcome === 'overdue').length;

  for (const [width, height, label] of [[1280, 800, 'desktop'], [390, 844, 'phone']]) {
    const page = await signIn(company, 'manager', { width, height });
    if (!me.team) await page.locator('select[name="team"]').selectOption(team);
    await page.getByRole('heading', { name: `Pipeline by stage: team ${team}` }).waitFor();
    const table = page.locator('table[data-pipeline]');
    await page.locator('#h-pipeline').locator('..').getByText(`${pipeline.customers} customers with open deals`).waitFor();
    for (const st of pipeline.stages) {
      const row = table.locator(`tr[data-stage="${st.stage}"]`);
      assert.equal((await row.locator('td').nth(1).innerText()).trim(), String(st.deals), `deals at ${st.stage}`);
    }
    // The funnel's order, as the API gives it.
    assert.deepEqual(await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.stage)),
      pipeline.stages.map((s) => s.stage));
    const workload = page.locator('[data-workload]');
    await workload.waitFor();
    const text = await workload.innerText();
    assert.match(text, new RegExp(`${open.length} open requests, ${unanswered} of them unanswered`));
    assert.match(text, new RegExp(`${overdue} promises overdue`));
    await page.getByRole('img', { name: 'Open requests by how long they have been open' }).locator('canvas').waitFor();
    await page.locator('main').getByText('Loading…').first().waitFor({ state: 'detached' });
    await shoot(page, `home-manager-pipeline-${label}`);
    if (label === 'phone') {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone`);
    }
    assert.deepEqual(page.problems, []);
    await page.context().close();
  }
});

test('home lists silent customers and sales made without contact apart, each with its own count', async () => {
  const rows = lines((await company.call('admin', '/v1/silent?days=60')).text);
  const silent = rows.filter((r) => r.kind === 'silent');
  const wins = rows.filter((r) => r.kind === 'uncontacted_win');
  assert.ok(silent.length > 0 && wins.length > 0, 'the demo company has both');
  const page = await signIn(company, 'admin');
  const shown = async (id, items, first) => {
    const section = page.locator(`#${id}`).locator('..');
    await section.locator('tbody tr').first().waitFor();
    if (items.length > 10) {
      assert.match(await section.locator('.pager span').innerText(), new RegExp(`^1–10 of ${items.length}$`));
    } else {
      assert.equal(await section.locator('tbody tr').count(), items.length);
    }
    assert.match(await section.locator('tbody tr').first().innerText(), new RegExp(first));
  };
  await shown('h-silent', silent, `${silent[0].customer}[\\s\\S]*${silent[0].days_silent}`);
  await shown('h-uncontacted', wins, `${wins[0].customer}[\\s\\S]*${wins[0].id}`);
  // Its screenshot shows people's names: owner-only.
  await shoot(page, 'home-silent-admin');
  assert.equal(statSync(join(screenshots, 'home-silent-admin.png')).mode & 0o077, 0);
  assert.equal(statSync(screenshots).mode & 0o077, 0);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('an admin picks a team, and the pipeline follows', async () => {
  const teams = lines((await company.call('admin', '/v1/accountability')).text).filter((r) => r.kind === 'team' && r.team);
  assert.ok(teams.length > 1, 'the demo has several teams');
  const team = teams[0].team;
  // A customer nobody owns, with an open deal: in every team's pipeline, said apart.
  const stream = `customer-${90000 + Math.floor(Math.random() * 9000)}`;
  const at = new Date().toISOString();
  const posted = await company.call('ingest', `/v1/streams/${stream}/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify([
      { id: crypto.randomUUID(), stream, type: 'customer.registered', actor: company.rep, occurred_at: at, source: 'crm',
        data: { name: 'Nobody Owns Me GmbH' } },
      { id: crypto.randomUUID(), stream, type: 'deal.opened', actor: company.rep, occurred_at: at, source: 'crm',
        data: { deal_id: 'deal-unowned-1', title: 'Fleet', value: 1234, currency: 'EUR', stage: 'qualification', probability: 10 } },
    ]),
  });
  assert.equal(posted.status, 201, posted.text);
  const last = posted.body.positions[posted.body.positions.length - 1];
  const south = (await company.call('admin', `/v1/pipeline?team=${team}&min_position=${last}`)).body;
  const all = (await company.call('admin', `/v1/pipeline?min_position=${last}`)).body;
  assert.ok(all.customers > south.customers, 'every team has more customers with deals than one');
  assert.ok(all.unowned_customers >= 1, 'the customer nobody owns is counted');
  assert.equal(south.unowned_customers, 0, "a team's pipeline counts no customer nobody owns");
  const page = await signIn(company, 'admin');
  await page.locator('table[data-pipeline]').waitFor();
  assert.match(await page.locator('#h-pipeline').locator('..').innerText(),
    new RegExp(`${all.customers} customers with open deals, ${all.unowned_customers} of them owned by nobody`));
  await page.locator('select[name="team"]').selectOption(team);
  await page.getByRole('heading', { name: `Pipeline by stage: team ${team}` }).waitFor();
  await page.locator('#h-pipeline').locator('..').getByText(`${south.customers} customers with open deals`).waitFor();
  await page.getByRole('heading', { name: `Open requests by age and overdue promises: team ${team}` }).waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a person's page charts their first response, and their team's, by month", async () => {
  const slow = company.tour.slow_responder;
  const page = await signIn(company, 'manager');
  await page.goto(`${company.url}/#/staff/${slow}`);
  await page.getByRole('img', { name: `${slow}: first response by month opened (hours)` }).locator('canvas').waitFor();
  await page.getByRole('img', { name: /^Team .*: first response by month opened/ }).locator('canvas').waitFor();
  await page.locator('main').getByText('Loading…').first().waitFor({ state: 'detached' });
  await shoot(page, 'staff-manager-desktop');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a person's page says how many steps were entered late and how many due dates were moved after they passed", async () => {
  const who = company.tour.slow_responder;
  const earlier = lines((await company.call("admin", `/v1/accountability?staff=${who}`)).text).find((r) => r.kind === "staff");
  assert.equal(earlier.entered_late, 0, "the demo is loaded as it happened");
  assert.equal(earlier.due_moved, 0);
  // A customer of theirs: a promise kept, it says, three days before it was
  // made (entered late), and a promise made already three days overdue whose
  // due date is then moved a month on (moved after it passed).
  const stream = `customer-${80000 + Math.floor(Math.random() * 9000)}`;
  const now = Date.now();
  const at = (days) => new Date(now + days * 86400000).toISOString();
  const ev = (type, occurred, data) => ({ id: crypto.randomUUID(), stream, type, actor: who, occurred_at: occurred, source: 'crm', data });
  const made = ev('commitment.made', at(0), { commitment_id: 'com-late-1', promise: 'Offer', due_at: at(-3), owner: who });
  const post = async (events) => {
    const r = await company.call('ingest', `/v1/streams/${stream}/events`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(events),
    });
    assert.equal(r.status, 201, r.text);
    return r.body.positions[r.body.positions.length - 1];
  };
  await post([
    ev('customer.registered', at(0), { name: 'Late Entries GmbH' }),
    ev('customer.owner_assigned', at(0), { owner: who, reason: 'initial' }),
    ev('commitment.made', at(0), { commitment_id: 'com-late-2', promise: 'Call back', due_at: at(10), owner: who }),
    ev('commitment.fulfilled', at(-3), { commitment_id: 'com-late-2' }),
    made,
  ]);
  const last = await post([ev('event.corrected', at(0), { event_id: made.id, reason: 'new date', corrected: { due_at: at(30) } })]);
  const later = lines((await company.call("admin", `/v1/accountability?staff=${who}&min_position=${last}`)).text)
    .find((r) => r.kind === 'staff');
  assert.equal(later.entered_late, 1);
  assert.equal(later.due_moved, 1);
  const page = await signIn(company, 'manager');
  await page.goto(`${company.url}/#/staff/${who}`);
  await page.locator('[data-field="entered-late"]').getByText('1 first responses or promises\' ends entered more than a day').waitFor();
  await page.locator('[data-field="due-moved"]').getByText(/^1 promise whose due date a correction moved later/).waitFor();
  // The customer's page judges the promise the same way: due a month on, but
  // moved after it passed, so overdue since then.
  await page.goto(`${company.url}/#/customers/${stream}`);
  const offer = page.getByRole('region', { name: 'What is open' }).locator('li').filter({ hasText: 'Offer' });
  await offer.getByText(/moved from .* after it passed/).waitFor();
  await offer.getByText('· overdue').waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("the access page shows the leaver's daily exports against their own baseline, the departure marked, and their alerts", async () => {
  const leaver = company.tour.leaver;
  const page = await signIn(company, 'auditor');
  await page.getByRole('link', { name: 'Access' }).click();
  await page.locator('input[name="staff"]').fill(leaver);
  await page.getByRole('button', { name: 'Show their reads' }).click();
  const daily = page.locator(`[data-daily="${leaver}"]`);
  await daily.waitFor();
  const text = await daily.innerText();
  const exported = Number(text.match(/(\d+) records exported/)[1]);
  assert.ok(exported >= company.tour.leaver_exported_after_announcing * 0.5,
    `the leaver's exports show (${exported} of ${company.tour.leaver_exported_after_announcing} since announcing)`);
  assert.match(text, /Departure announced/);
  await page.getByRole('img', { name: `${leaver}: records exported per day, and their median over the 30 days before` }).locator('canvas').waitFor();
  const alerts = page.locator('#x-alerts').locator('..').locator('li.alert');
  await alerts.first().waitFor();
  assert.equal(await alerts.count(), Math.min(8, company.tour.alerts_by_staff[leaver]));
  await shoot(page, 'access-leaver');
  // The access listing is itself a read, recorded for the auditor.
  const own = lines((await company.call('admin', '/v1/access?staff=staff-991')).text);
  assert.ok(own.some((e) => e.data.view === 'access_log'), 'the auditor\'s look at the access log is recorded');

  // Who read a customer: the manager who opens it shows up.
  const customer = company.tour.silent_customer;
  const manager = await signIn(company, 'manager');
  await manager.goto(`${company.url}/#/customers/${customer}`);
  await manager.getByRole('heading', { name: 'Timeline' }).waitFor();
  await manager.context().close();
  // The access view is a projection: wait until it has folded the manager's read.
  for (let i = 0; i < 50; ++i) {
    const reads = lines((await company.call('admin', `/v1/access?customer=${customer}`)).text);
    if (reads.some((r) => r.staff === company.tour.reader)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await page.locator('input[name="customer"]').fill(customer);
  await page.getByRole('button', { name: 'Who read it' }).click();
  await page.locator(`#x-readers`).locator('..').locator(`tr[data-reader="${company.tour.reader}"]`).first().waitFor();
  await shoot(page, 'access-who-read');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('every page fits a phone: no sideways scrolling, no console errors, a screenshot of each', async () => {
  const pages = [
    ['customer', 'manager', `#/customers/${company.tour.handed_over_customer}`, 'Timeline'],
    ['staff', 'manager', `#/staff/${company.tour.slow_responder}`, 'Portfolio'],
    ['search', 'admin', '#/search', 'Search'],
    ['departures', 'manager', '#/handover', 'Plan a handover'],
    ['access', 'auditor', `#/access?staff=${company.tour.leaver}&customer=${company.tour.handed_over_customer}`, `Who read ${company.tour.handed_over_customer}`],
    ['audit', 'auditor', '#/audit', 'Check in this browser'],
  ];
  for (const [name, role, hash, heading] of pages) {
    const page = await signIn(company, role, { width: 390, height: 844 });
    await page.goto(`${company.url}/${hash}`);
    await page.getByRole('heading', { name: heading }).first().waitFor();
    await page.locator('main').getByText('Loading…').first().waitFor({ state: 'detached', timeout: 30000 });
    await shoot(page, `${name}-${role}-phone`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${name} is ${overflow}px wider than a phone`);
    assert.deepEqual(page.problems, [], `console errors on ${name}`);
    await page.context().close();
  }
});

// Everything a mouse can reach, a keyboard reaches: signing in by typing, the
// skip link, and on every page each visible link, button, field and summary
// gets the focus with Tab, in order, with a visible focus ring.
test('every page is keyboard reachable: Tab reaches each control with a visible focus ring, and Enter works', async () => {
  const context = await company.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  await page.goto(company.url + '/');
  // Sign in with the keyboard only.
  await page.getByLabel('Token').waitFor();
  let reached = false;
  for (let i = 0; i < 10 && !reached; ++i) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.name === 'token');
  }
  assert.ok(reached, 'Tab reaches the token field');
  await page.keyboard.type(company.tokens.manager);
  await page.keyboard.press('Enter');
  await page.locator('header.top .who').waitFor();

  // The first Tab shows the skip link; Enter on it puts the focus on the page.
  await page.locator('body').focus();
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to the page');
  const box = await page.locator('a.skip').boundingBox();
  assert.ok(box && box.x >= 0 && box.y >= 0, 'the focused skip link is on screen');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'main');

  const pages = [
    ['home', '#/', 'Pipeline by stage'],
    ['customer', `#/customers/${company.tour.handed_over_customer}`, 'Timeline'],
    ['staff', `#/staff/${company.tour.slow_responder}`, 'Portfolio'],
    ['search', '#/search', 'Search'],
    ['departures', '#/handover', 'Plan a handover'],
  ];
  for (const [name, hash, heading] of pages) {
    // A fresh load (the tab keeps its token), so that Tab starts at the top.
    await page.goto(`${company.url}/${hash}`);
    await page.reload();
    await page.getByRole('heading', { name: heading }).first().waitFor();
    await page.locator('main').getByText('Loading…').first().waitFor({ state: 'detached', timeout: 30000 });
    // Number every visible control, then Tab through the page and tick off
    // each one the focus lands on.
    const controls = await page.evaluate(() => {
      const all = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]
        .filter((el) => el.tabIndex >= 0 && !el.disabled && el.checkVisibility() && el.getClientRects().length > 0);
      all.forEach((el, i) => (el.dataset.kb = String(i)));
      return all.map((el) => `${el.tagName.toLowerCase()} "${(el.textContent || el.name || el.getAttribute('aria-label') || '').trim().slice(0, 40)}"`);
    });
    assert.ok(controls.length > 5, `${name} has controls`);
    await page.evaluate(() => document.activeElement?.blur());
    const seen = new Set();
    const unringed = [];
    // Scrolling cards take a Tab stop of their own, so allow for more stops than controls.
    for (let i = 0; i < 2 * controls.length + 20 && seen.size < controls.length; ++i) {
      await page.keyboard.press('Tab');
      const at = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const s = getComputedStyle(el);
        const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
        return { kb: el.dataset.kb, ring, style: `${s.outlineStyle} ${s.outlineWidth} ${s.boxShadow}` };
      });
      if (!at) continue;
      if (at.kb !== undefined) {
        seen.add(Number(at.kb));
        if (!at.ring) unringed.push(`${controls[Number(at.kb)]} (outline: ${at.style})`);
      }
    }
    const missed = controls.filter((_, i) => !seen.has(i));
    assert.deepEqual(missed, [], `on ${name}, Tab never reaches these`);
    assert.deepEqual(unringed, [], `on ${name}, these have no visible focus ring`);
  }

  // Enter does what a click does: a search typed and submitted from the keyboard.
  await page.goto(`${company.url}/#/search`);
  const customer = (await company.call('admin', `/v1/customers/${company.tour.handed_over_customer}`)).body;
  const field = page.locator('input[name="q"]').first();
  await field.focus();
  await page.keyboard.type(`${customer.id} a`);  // a one-letter word is not searched, and the page says so
  await page.keyboard.press('Enter');
  const found = page.locator(`tr[data-customer="${customer.id}"] a`).first();
  await found.waitFor();
  await page.getByText('Not searched, as one letter matches too much: a').waitFor();
  await found.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`#/customers/${customer.id}`));
  await page.getByRole('heading', { name: 'Timeline' }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});
