// Departures and handover in the browser: a plan previewed customer by
// customer, executed after a confirmation, and the successor's briefing. Runs
// on its own generated store (a copy nobody else uses).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { shoot, signIn, startCompany } from './fixture.mjs';

let company;
before(async () => {
  company = await startCompany();
});
after(async () => {
  await company?.stop();
});

const fitsPhone = async (page) => (await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) <= 1;

test('a manager plans a handover, previews it with its risks, executes it after confirming, and opens the briefing', async () => {
  // The rep (who owns the handed-over customer) is leaving; their customers go to the demo's earlier successor.
  const leaver = company.rep;
  const successor = company.tour.leaver_successor;
  assert.notEqual(leaver, successor);
  const portfolio = (await company.call('admin', `/v1/staff/${leaver}/portfolio`)).text.trim().split('\n')
    .map((l) => JSON.parse(l));
  const owned = portfolio.filter((p) => p.owned);
  assert.ok(owned.length > 0, 'the leaver owns customers');
  // The plan covers every customer the leaver owns or holds open work on: their portfolio's rows.
  const held = portfolio.length;

  const page = await signIn(company, 'manager');
  await page.getByRole('link', { name: 'Departures' }).click();
  await page.getByRole('heading', { name: 'Plan a handover' }).waitFor();
  await page.locator('input[name="from"]').fill(leaver);
  await page.locator('input[name="target"]').fill(successor);
  await page.getByRole('button', { name: 'Preview the plan' }).click();
  const plan = page.locator('[data-plan]');
  await plan.waitFor();
  assert.match(await plan.innerText(), new RegExp(`${held} customers of ${leaver}`));
  // Owned ones apart from those where the leaver only holds open work.
  const others = held - owned.length;
  assert.match(await plan.innerText(),
    new RegExp(`\\(${owned.length} owned${others > 0 ? `, ${others} where only open work is held` : ''}\\)`));
  await shoot(page, 'handover-preview');
  // The same preview on a phone: all of it there, nothing wider than the screen.
  const phone = await signIn(company, 'manager', { width: 390, height: 844 });
  await phone.goto(`${company.url}/#/handover`);
  await phone.getByRole('heading', { name: 'Plan a handover' }).waitFor();
  await phone.locator('input[name="from"]').fill(leaver);
  await phone.locator('input[name="target"]').fill(successor);
  await phone.getByRole('button', { name: 'Preview the plan' }).click();
  await phone.locator('[data-plan]').waitFor();
  assert.match(await phone.locator('[data-plan]').innerText(), new RegExp(`${held} customers of ${leaver}`));
  await shoot(phone, 'handover-preview-phone');
  assert.ok(await fitsPhone(phone), 'the preview fits a phone');
  assert.deepEqual(phone.problems, []);
  await phone.context().close();
  // Previewing moved nothing.
  const still = (await company.call('admin', `/v1/customers/${owned[0].customer}`)).body;
  assert.equal(still.owner, leaver);

  await page.getByRole('button', { name: 'Execute this handover…' }).click();
  await page.getByRole('alertdialog').waitFor();
  await page.getByRole('button', { name: `Yes, hand over ${held} customers` }).click();
  const done = page.locator('[data-done]');
  await done.waitFor();
  assert.match(await done.innerText(), /nothing left behind/);
  const moved = (await company.call('admin', `/v1/customers/${owned[0].customer}?min_position=0`)).body;
  assert.equal(moved.owner, successor);
  await shoot(page, 'handover-done');

  await page.getByRole('link', { name: "Open the successor's briefing" }).click();
  await page.locator('section.brief').first().waitFor();
  assert.equal(await page.locator('section.brief').count(), held);
  assert.match(await page.locator('section.brief').first().innerText(), new RegExp(successor));
  await shoot(page, 'handover-briefing');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('header.top').isVisible(), false, 'the briefing prints without the navigation');
  await shoot(page, 'handover-briefing-print');
  // The briefing on the successor's phone.
  const briefingUrl = page.url();
  const phoneBrief = await signIn(company, 'manager', { width: 390, height: 844 });
  await phoneBrief.goto(briefingUrl);
  await phoneBrief.locator('section.brief').first().waitFor();
  assert.equal(await phoneBrief.locator('section.brief').count(), held);
  await shoot(phoneBrief, 'handover-briefing-phone');
  assert.ok(await fitsPhone(phoneBrief), 'the briefing fits a phone');
  assert.deepEqual(phoneBrief.problems, []);
  await phoneBrief.context().close();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a rep may not plan a handover: no form in the UI, and 403 from the API with the same token', async () => {
  const page = await signIn(company, 'rep');
  await page.goto(`${company.url}/#/handover`);
  await page.getByRole('heading', { name: 'Departures and handover' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Plan a handover' }).count(), 0);
  const r = await company.call('rep', '/v1/handovers', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ from: company.rep, to: 'staff-1' }),
  });
  assert.equal(r.status, 403);
  await page.context().close();
});
