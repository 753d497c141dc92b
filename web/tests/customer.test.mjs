// The customer page, as-of, people (open, sealed, erased), corrections, the
// live feed, alerts with their evidence, search and audit, in Debian's Chromium.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyBundle } from '../src/verify.js';
import { shoot, signIn, startCompany } from './fixture.mjs';

let company;
before(async () => {
  company = await startCompany();
});
after(async () => {
  await company?.stop();
});

const field = (page, name) => page.locator(`dd[data-field="${name}"]`);

test('moving the as-of date across the handover shows the owner change', async () => {
  const id = company.tour.handed_over_customer;
  const c = (await company.call('admin', `/v1/customers/${id}`)).body;
  const handover = c.custody.find((s) => s.reason === 'handover');
  assert.ok(handover, 'the demo handed this customer over');
  const before = new Date(Date.parse(handover.from) - 3 * 86400e3).toISOString().replace('.000Z', 'Z');
  const after = new Date(Date.parse(handover.from) + 86400e3).toISOString().replace('.000Z', 'Z');

  const page = await signIn(company, 'manager');
  await page.goto(`${company.url}/#/customers/${id}`);
  await field(page, 'owner').getByText(handover.owner).waitFor();
  await shoot(page, 'customer-manager-desktop');

  await page.goto(`${company.url}/#/customers/${id}?as_of=${encodeURIComponent(before)}&mode=business`);
  await page.getByRole('status').filter({ hasText: 'business time' }).waitFor();
  await field(page, 'owner').getByText(handover.previous_owner, { exact: true }).waitFor();
  await shoot(page, 'customer-as-of-before-handover');

  // The same through the control, as a user would.
  const local = await page.evaluate((iso) => {
    const d = new Date(iso);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  }, after);
  await page.locator('input[name="as_of"]').fill(local);
  await page.locator('select[name="as_of_mode"]').selectOption('business');
  await page.getByRole('button', { name: 'Show' }).click();
  await field(page, 'owner').getByText(handover.owner, { exact: true }).waitFor();
  assert.match(page.url(), /mode=business/);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('every read the UI makes is recorded for the signed-in user', async () => {
  const id = company.tour.overdue_customer;
  const page = await signIn(company, 'manager');
  await page.goto(`${company.url}/#/customers/${id}`);
  await page.getByRole('heading', { name: 'Timeline' }).waitFor();
  await page.locator('ol.timeline li').first().waitFor();
  // The access view is a projection: it shows a read once it has folded it.
  let views = new Set();
  for (let tries = 0; tries < 50 && !views.has('timeline'); ++tries) {
    if (tries) await new Promise((r) => setTimeout(r, 200));
    const access = await company.call('admin', `/v1/access?customer=${id}`);
    const reads = access.text.trim().split('\n').map((l) => JSON.parse(l)).filter((a) => a.staff === company.tour.reader);
    views = new Set(reads.map((a) => a.view));
  }
  assert.ok(views.has('customer_profile'), `profile read recorded: ${[...views]}`);
  assert.ok(views.has('timeline'), `timeline read recorded: ${[...views]}`);
  await page.context().close();
});

test('an erased person is shown as erased, an auditor sees people sealed, an admin sees them open', async () => {
  const subject = company.tour.erased_subjects[0];
  const [customer, contact] = subject.split('/contact-');
  const admin = await signIn(company, 'admin');
  await admin.goto(`${company.url}/#/customers/${customer}`);
  const row = admin.locator(`tr[data-contact="${contact}"]`);
  await row.locator('[data-state="erased"]').waitFor();
  assert.match(await row.innerText(), /erased/);
  await admin.locator('[data-state="open"]').first().waitFor();
  await shoot(admin, 'customer-erased-person-admin');
  await admin.context().close();

  const auditor = await signIn(company, 'auditor');
  await auditor.goto(`${company.url}/#/customers/${customer}`);
  await auditor.getByRole('heading', { name: 'People' }).waitFor();
  await auditor.locator('[data-state="sealed"]').first().waitFor();
  assert.equal(await auditor.locator('[data-state="open"]').count(), 0);
  await shoot(auditor, 'customer-auditor-sealed');
  assert.deepEqual(auditor.problems, []);
  await auditor.context().close();
});

test('a correction is shown next to what it fixes, and the timeline filters by type', async () => {
  const id = company.tour.fixed_customer;
  const page = await signIn(company, 'admin');
  await page.goto(`${company.url}/#/customers/${id}`);
  await page.locator('ol.timeline li').first().waitFor();
  await page.locator('select[name="type"]').selectOption('order.placed');
  const fixed = page.locator('ol.timeline li.fixed[data-type="order.placed"]');
  await fixed.first().waitFor();
  assert.match(await fixed.first().locator('.fix').innerText(), /(corrected|retracted) by /);
  const types = await page.locator('ol.timeline li').evaluateAll((lis) => [...new Set(lis.map((l) => l.dataset.type))]);
  assert.deepEqual(types, ['order.placed']);
  await shoot(page, 'customer-correction');
  await page.context().close();
});

test('a new event appears on the open customer page without a reload', async () => {
  const id = company.tour.handed_over_customer;
  const page = await signIn(company, 'rep');
  await page.goto(`${company.url}/#/customers/${id}`);
  await page.locator('.live').waitFor();
  await page.locator('ol.timeline li').first().waitFor();
  const summary = `called from the browser test ${Date.now()}`;
  const r = await company.call('ingest', `/v1/streams/${id}/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      id: crypto.randomUUID(), stream: id, type: 'interaction.logged', actor: company.rep,
      occurred_at: new Date().toISOString(), source: 'crm',
      data: { channel: 'call', direction: 'outbound', summary },
    }),
  });
  assert.equal(r.status, 201, r.text);
  const item = page.locator('ol.timeline li').first();
  await item.getByText(summary).waitFor({ timeout: 15000 });
  // The log names the token that appended it: the actor is only the CRM's word.
  const tokenId = company.tokens.ingest.split('.')[0];
  assert.match(tokenId, /^tok-/);
  await item.locator('.via').getByText(`via ${tokenId}`).waitFor();
  await page.context().close();
  // The token is in the event's leaf (canonical format 2): the customer's
  // bundle verifies in the browser's verifier, and not with it changed.
  assert.equal((await company.call('admin', '/v1/checkpoints', { method: 'POST' })).status, 201);
  const bundle = await company.call('auditor', `/v1/bundles/${id}`);
  assert.equal(bundle.status, 200, bundle.text);
  assert.ok(bundle.text.includes(`"recorded_by":"${tokenId}"`));
  const key = (await company.call('auditor', '/v1/verifier-key')).body.verifier_key;
  const verdict = await verifyBundle(bundle.text, key);
  assert.ok(verdict.ok, verdict.problems.join('; '));
  const forged = await verifyBundle(bundle.text.replace(`"recorded_by":"${tokenId}"`, '"recorded_by":"tok-0000000000000000"'), key);
  assert.equal(forged.ok, false);
  assert.match(forged.problems.join('; '), /not in the signed log/);
});

test('an alert shows its evidence', async () => {
  const alerts = (await company.call('manager', '/v1/alerts')).text.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(alerts.length > 0, 'the demo leaver raised alerts');
  const newest = alerts[alerts.length - 1];
  const page = await signIn(company, 'manager');
  const first = page.locator('li.alert').first();
  await first.waitFor();
  assert.match(await first.innerText(), new RegExp(newest.summary.slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await first.getByText(/^Evidence/).click();
  await first.locator('ul.evidence').getByText(newest.evidence[0]).waitFor();
  await shoot(page, 'alert-evidence');
  await page.context().close();
});

test('search finds a person by e-mail through the blind index, and a rep only within their customers', async () => {
  const c = (await company.call('admin', `/v1/customers/${company.tour.handed_over_customer}`)).body;
  const person = c.people.find((p) => p.personal && p.personal.email);
  assert.ok(person, 'a contact with an e-mail');
  const page = await signIn(company, 'admin');
  await page.goto(`${company.url}/#/search`);
  await page.getByLabel('search by').selectOption('email');
  await page.getByLabel('search for').fill(person.personal.email.toUpperCase());
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByRole('link', { name: company.tour.handed_over_customer }).waitFor();
  const row = page.locator(`tr[data-subject="${company.tour.handed_over_customer}/contact-${person.contact_id}"]`);
  assert.match(await row.innerText(), new RegExp(person.personal.name));
  await shoot(page, 'search');

  // A customer by words of its name, as registered.
  const named = (await company.call('admin', '/v1/silent?days=60')).text.trim().split('\n').map((l) => JSON.parse(l))
    .find((c) => c.name);
  assert.ok(named, 'a silent customer that is a company with a name');
  const words = named.name.split(' ').slice(0, 2).join(' ').toLowerCase();
  await page.getByLabel('search by').selectOption('customer');
  await page.getByLabel('search for').fill(words);
  await page.getByRole('button', { name: 'Find' }).click();
  await page.locator(`tr[data-customer="${named.customer}"]`).waitFor();
  await shoot(page, 'search-customer');
  assert.deepEqual(page.problems, []);
  await page.context().close();
  // A rep finds only customers they serve: each one they find they may open.
  const repFound = (await company.call('rep', `/v1/customers?q=${encodeURIComponent(words)}`)).body.customers;
  const adminFound = (await company.call('admin', `/v1/customers?q=${encodeURIComponent(words)}`)).body.customers;
  assert.ok(repFound.length < adminFound.length, `the rep finds fewer (${repFound.length} of ${adminFound.length})`);
  for (const c of repFound) assert.equal((await company.call('rep', `/v1/customers/${c.id}`)).status, 200, c.id);
  const email = encodeURIComponent(person.personal.email);
  assert.equal((await company.call('rep', `/v1/people?email=${email}`)).body.people.length, 1);
  assert.equal((await company.call('auditor', `/v1/people?email=${email}`)).status, 403);
});

test('the audit page shows the log verifies and the verifier key', async () => {
  const key = (await company.call('auditor', '/v1/verifier-key')).body.verifier_key;
  const page = await signIn(company, 'auditor');
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.locator('[data-verify="ok"]').waitFor({ timeout: 30000 });
  assert.equal((await page.locator('[data-key]').innerText()).trim(), key);
  await shoot(page, 'audit');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('an auditor checks a kept checkpoint and an evidence bundle in the browser, with the key they trust', async () => {
  const key = (await company.call('auditor', '/v1/verifier-key')).body.verifier_key;
  const kept = (await company.call('admin', '/v1/checkpoints', { method: 'POST' })).body;
  // The log grows (the auditor's bundle is itself a recorded read), and the log signs again.
  const id = company.tour.overdue_customer;
  const bundle = await company.call('auditor', `/v1/bundles/${id}`);
  assert.equal(bundle.status, 200);
  const newest = (await company.call('admin', '/v1/checkpoints', { method: 'POST' })).body;
  assert.ok(newest.size > kept.size, `the log grew: ${kept.size} -> ${newest.size}`);

  const page = await signIn(company, 'auditor');
  await page.getByRole('link', { name: 'Audit' }).click();
  // Nothing is checked until the auditor gives the key they trust.
  assert.equal(await page.getByRole('button', { name: 'Check against the log now' }).isDisabled(), true);
  await page.locator('textarea[name="trusted_key"]').fill(key);

  const check = async (note) => {
    await page.locator('textarea[name="kept_checkpoint"]').fill(note);
    await page.getByRole('button', { name: 'Check against the log now' }).click();
    const verdict = page.locator('[data-verdict="kept"]');
    await verdict.waitFor();
    return { ok: await verdict.getAttribute('data-ok'), text: await verdict.innerText() };
  };
  const good = await check(kept.checkpoint);
  assert.equal(good.ok, 'true', good.text);
  assert.match(good.text, new RegExp(`kept at ${kept.size} events is unchanged inside the log signed now at ${newest.size} events`));
  await shoot(page, 'audit-kept-checkpoint');
  // The same note with another root: its signature no longer holds.
  const other = kept.root.startsWith('A') ? `B${kept.root.slice(1)}` : `A${kept.root.slice(1)}`;
  const forged = await check(kept.checkpoint.replace(kept.root, other));
  assert.equal(forged.ok, 'false', forged.text);
  assert.match(forged.text, /not signed by the key you trust/);

  // The bundle as downloaded verifies; with one event's actor changed, it does not.
  const file = (name, text) => ({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
  const verify = async (f) => {
    await page.locator('input[name="bundle"]').setInputFiles(f);
    await page.getByRole('button', { name: 'Verify the bundle' }).click();
    const verdict = page.locator('[data-verdict="bundle"]');
    await verdict.waitFor();
    return { ok: await verdict.getAttribute('data-ok'), text: await verdict.innerText() };
  };
  const verified = await verify(file(`${id}-evidence.json`, bundle.text));
  assert.equal(verified.ok, 'true', verified.text);
  assert.match(verified.text, new RegExp(`bundle verified: \\d+ events of ${id}`));
  assert.match(verified.text, /complete/);
  await shoot(page, 'audit-bundle-verified');
  const actor = bundle.body.events[0].event.actor;
  const altered = bundle.text.replace(`"actor":"${actor}"`, `"actor":"${actor}x"`);
  assert.notEqual(altered, bundle.text);
  const refused = await verify(file(`${id}-altered.json`, altered));
  assert.equal(refused.ok, 'false', refused.text);
  assert.match(refused.text, /BUNDLE VERIFICATION FAILED/);
  assert.match(refused.text, /not in the signed log/);
  await shoot(page, 'audit-bundle-altered');
  // Its completeness part removed and its format set back to 2 (its summary as
  // a format 2 bundle's): every event still verifies, but that proves nothing
  // about events left out.
  const v2 = JSON.parse(bundle.text);
  delete v2.completeness;
  v2.format = 'custodian-evidence/2';
  v2.summary = v2.summary.slice(0, v2.summary.indexOf(' The stream map signed')) + v2.summary.slice(v2.summary.indexOf(' Check it offline'));
  const downgraded = await verify(file(`${id}-v2.json`, JSON.stringify(v2)));
  assert.equal(downgraded.ok, 'false', downgraded.text);
  assert.match(downgraded.text, /^✘ NOT PROVEN COMPLETE: bundle verified: /);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
