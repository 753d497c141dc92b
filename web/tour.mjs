// The demo's walk through the web UI (tools/demo.sh): signs in as the manager
// and the auditor in Debian's Chromium against a running `custodian serve`,
// opens each page, says in a line what it shows and saves a screenshot.
//
//   node web/tour.mjs --url http://127.0.0.1:8080 --out DIR \
//     --manager TOKEN --auditor TOKEN --customer customer-1028 --leaver staff-4
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string' }, out: { type: 'string' }, manager: { type: 'string' }, auditor: { type: 'string' },
    customer: { type: 'string' }, leaver: { type: 'string' },
  },
});
for (const k of ['url', 'out', 'manager', 'auditor', 'customer', 'leaver']) {
  if (!o[k]) {
    console.error(`tour.mjs: --${k} is missing`);
    process.exit(2);
  }
}
mkdirSync(o.out, { recursive: true, mode: 0o700 });
chmodSync(o.out, 0o700);  // also when an earlier run made it

const stops = [
  { name: 'home', role: 'manager', hash: '#/', heading: 'Pipeline by stage',
    say: ['#h-pipeline', '#h-workload', '#h-departures', '#h-alerts'] },
  { name: 'customer', role: 'manager', hash: `#/customers/${o.customer}`, heading: 'Timeline',
    say: ['#c-profile', '#c-people', '#c-custody', '#c-timeline'] },
  { name: 'customer-as-of', role: 'manager', hash: `#/customers/${o.customer}?as_of=${yearAgo()}&mode=knowledge`, heading: 'Timeline',
    say: ['.asof-note', '#c-custody'] },
  { name: 'leaver', role: 'manager', hash: `#/staff/${o.leaver}`, heading: 'Portfolio', say: ['#s-acc', '#s-portfolio'] },
  { name: 'departures', role: 'manager', hash: '#/handover', heading: 'Departures', say: ['#d-list'] },
  { name: 'access', role: 'auditor', hash: `#/access?staff=${o.leaver}&customer=${o.customer}`, heading: `Who read ${o.customer}`,
    say: ['#x-daily', '#x-alerts', '#x-readers'] },
  { name: 'audit', role: 'auditor', hash: '#/audit', heading: 'Verification', say: ['#a-verify', '#a-key'] },
];

function yearAgo() {
  const d = new Date(Date.now() - 365 * 86400e3);
  return d.toISOString().slice(0, 10) + 'T00:00:00Z';
}

// The first lines of a section's text, without its heading, on one line.
async function gist(page, selector) {
  const el = page.locator(selector).first();
  if ((await el.count()) === 0) return null;
  const scope = selector.startsWith('#') ? el.locator('..') : el;
  // The words only: charts, their legends and the controls hidden while reading.
  const text0 = await scope.evaluate((node) => {
    const hidden = [...node.querySelectorAll('[role="img"], .u-legend, select, .toolbar, .pager, button, form')];
    const was = hidden.map((h) => h.style.display);
    hidden.forEach((h) => (h.style.display = 'none'));
    const t = node.innerText;
    hidden.forEach((h, i) => (h.style.display = was[i]));
    return t;
  });
  const lines = text0.replaceAll('\t', '  ').split('\n').map((l) => l.trim()).filter(Boolean);
  const title = selector.startsWith('#') ? lines.shift() : '';
  const text = lines.slice(0, 3).join(' · ');
  return `${title ? title + ': ' : ''}${text.length > 150 ? text.slice(0, 149) + '…' : text}`;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
});
let failed = false;
try {
  const signedIn = {};
  for (const stop of stops) {
    let page = signedIn[stop.role];
    if (!page) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      page = await context.newPage();
      page.problems = [];
      page.on('pageerror', (e) => page.problems.push(e.message));
      await page.goto(o.url + '/');
      await page.getByLabel('Token').fill(o[stop.role]);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('header.top .who').waitFor();
      console.log(`\nsigned in as ${(await page.locator('header.top .who').innerText()).trim()}`);
      signedIn[stop.role] = page;
    }
    await page.goto(`${o.url}/${stop.hash}`);
    await page.getByRole('heading', { name: stop.heading }).first().waitFor({ timeout: 30000 });
    await page.locator('main').getByText('Loading…').first().waitFor({ state: 'detached', timeout: 30000 });
    const file = join(o.out, `${stop.name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    chmodSync(file, 0o600);  // it shows people's names: owner-only, as the store's files
    console.log(`  ${o.url}/${stop.hash}\n    screenshot ${file}`);
    for (const sel of stop.say) {
      const g = await gist(page, sel);
      if (g) console.log(`    ${g}`);
    }
    if (page.problems.length) {
      failed = true;
      console.log(`    PROBLEM: ${page.problems.join('; ')}`);
    }
  }
} catch (e) {
  failed = true;
  console.error(`the UI tour stopped: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
