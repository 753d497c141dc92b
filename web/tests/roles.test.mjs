// Signing in as each role, what each may reach, and the page's own hygiene
// (the CSP, no console errors), in Debian's Chromium against a real server.
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

test('the UI is served with a strict Content-Security-Policy and nothing from elsewhere', async () => {
  const r = await fetch(company.url + '/');
  assert.equal(r.status, 200);
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  const html = await r.text();
  assert.doesNotMatch(html, /https?:\/\//, 'index.html loads nothing from another origin');
  assert.equal((await fetch(company.url + '/app.js')).headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal((await fetch(company.url + '/../../etc/passwd')).status, 404);
  assert.equal((await fetch(company.url + '/node_modules/preact/package.json')).status, 404);
});

test('a wrong token is refused at sign-in and nothing is shown', async () => {
  const context = await company.browser.newContext();
  const page = await context.newPage();
  await page.goto(company.url + '/');
  await page.getByLabel('Token').fill('tok-0000000000000000.not-a-secret');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('invalid or revoked token').waitFor();
  assert.equal(await page.locator('header.top').count(), 0);
  await context.close();
});

for (const role of ['manager', 'rep', 'auditor', 'admin']) {
  test(`signing in as ${role} shows who and which role on every page, at desktop and phone width`, async () => {
    for (const [width, height, label] of [[1280, 800, 'desktop'], [390, 844, 'phone']]) {
      const page = await signIn(company, role, { width, height });
      const who = page.locator('header.top .who');
      assert.match(await who.innerText(), new RegExp(role));
      await page.getByRole('heading', { name: /Silent customers/ }).waitFor();
      await page.locator('main').getByText('Loading…').first().waitFor({ state: 'detached' });
      await shoot(page, `home-${role}-${label}`);
      if (label === 'phone') {
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone`);
      }
      await page.goto(`${company.url}/#/search`);
      assert.match(await who.innerText(), new RegExp(role));
      assert.deepEqual(page.problems, [], `console errors as ${role}`);
      await page.context().close();
    }
  });
}

test('the sign-in token is kept for the tab only: a new tab must sign in again', async () => {
  const page = await signIn(company, 'manager');
  const stored = await page.evaluate(() => [sessionStorage.length, localStorage.length, document.cookie]);
  assert.deepEqual(stored, [1, 0, '']);
  const other = await page.context().newPage();
  await other.goto(company.url + '/');
  await other.getByLabel('Token').waitFor();
  await page.context().close();
});

test("a rep cannot reach another team's customer, neither in the UI nor with the same token on the API", async () => {
  const silent = await company.call('admin', '/v1/silent?days=60');
  const lines = silent.text.trim().split('\n').map((l) => JSON.parse(l));
  const other = lines.find((s) => s.owner && s.owner !== company.rep);
  assert.ok(other, 'a silent customer owned by someone else');
  const profile = await company.call('admin', `/v1/customers/${other.customer}`);
  assert.notEqual(profile.body.team, company.handedOverTeam, 'the fixture picked a customer of another team');

  const page = await signIn(company, 'rep');
  await page.goto(`${company.url}/#/customers/${other.customer}`);
  await page.getByRole('alert').filter({ hasText: 'Not allowed' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'People' }).count(), 0);
  await shoot(page, 'customer-forbidden-rep');
  // The same token, straight to the API.
  assert.equal((await company.call('rep', `/v1/customers/${other.customer}`)).status, 403);
  assert.equal((await company.call('rep', `/v1/customers/${other.customer}/timeline`)).status, 403);
  // And their own customer opens.
  await page.goto(`${company.url}/#/customers/${company.tour.handed_over_customer}`);
  await page.getByRole('heading', { name: 'People' }).waitFor();
  const unexpected = page.problems.filter((p) => !/403/.test(p));
  assert.deepEqual(unexpected, []);
  await page.context().close();
});

test('an ingest token signs in but reads nothing', async () => {
  const page = await signIn(company, 'ingest');
  await page.getByText('an ingest token appends events and reads nothing').waitFor();
  assert.equal((await company.call('ingest', '/v1/silent')).status, 403);
  await page.context().close();
});
