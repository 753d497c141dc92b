// What every browser test starts from: a generated demo company in a fresh
// store, the tokens of each role, `custodian serve` on a free loopback port
// with the built UI, and Debian's Chromium (no browser download).
//
// From the environment (set by ctest, web/CMakeLists.txt):
//   CUSTODIAN_BIN   the custodian binary
//   CUSTODIAN_WEB   the built UI (build/ui)
//   SCREENSHOTS     where screenshots go (build/web-screenshots)
//   CHROMIUM        the browser (default /usr/bin/chromium)
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const bin = process.env.CUSTODIAN_BIN;
const web = process.env.CUSTODIAN_WEB;
if (!bin || !web) throw new Error('set CUSTODIAN_BIN and CUSTODIAN_WEB (ctest does)');
export const screenshots = process.env.SCREENSHOTS || join(tmpdir(), 'custodian-web-screenshots');
mkdirSync(screenshots, { recursive: true, mode: 0o700 });
chmodSync(screenshots, 0o700);  // also when an earlier run made it

export function cli(dir, args, opts = {}) {
  return execFileSync(bin, ['--data', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

function token(dir, admin, role, name, staff) {
  const args = ['--as', admin, 'token', 'create', '--role', role, '--name', name];
  if (staff) args.push('--staff', staff);
  return cli(dir, args).trim();
}

// The company, its tokens and the served UI. `copyOf`: a store to copy
// instead of generating one.
export async function startCompany() {
  const root = mkdtempSync(join(tmpdir(), 'custodian-web-'));
  const dir = join(root, 'store');
  const tour = JSON.parse(cli(dir, ['demo', '--staff', '24', '--customers', '400', '--years', '2', '--json']));
  cli(dir, ['principal', 'add', '--id', '990', '--kind', 'other', '--role', 'admin']);
  cli(dir, ['principal', 'add', '--id', '991', '--kind', 'auditor']);
  const handed = JSON.parse(cli(dir, ['--as', 'staff-990', 'customer', 'show', tour.handed_over_customer, '--json']));
  const rep = handed.owner; // the successor who owns the handed-over customer now
  const tokens = {
    admin: token(dir, 'staff-990', 'admin', 'ui-admin', 'staff-990'),
    auditor: token(dir, 'staff-990', 'auditor', 'ui-auditor', 'staff-991'),
    manager: token(dir, 'staff-990', 'manager', 'ui-manager', tour.reader),
    rep: token(dir, 'staff-990', 'rep', 'ui-rep', rep),
    ingest: token(dir, 'staff-990', 'ingest', 'ui-ingest'),
  };
  const server = spawn(bin, ['--data', dir, 'serve', '--listen', '127.0.0.1:0', '--web', web], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  server.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${stderr}`)), 60000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`the server exited with ${code}: ${stderr}`)));
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const company = {
    root, dir, tour, tokens, rep, url, browser,
    handedOverTeam: handed.team,
    // The API as a token would call it: { status, body }.
    async call(role, path, init = {}) {
      const r = await fetch(url + path, { ...init, headers: { Authorization: `Bearer ${tokens[role]}`, ...(init.headers || {}) } });
      const text = await r.text();
      let body = text;
      try { body = JSON.parse(text); } catch { /* JSON Lines or text */ }
      return { status: r.status, body, text, headers: r.headers };
    },
    async stop() {
      await browser.close();
      server.kill('SIGINT');
      await new Promise((resolve) => (server.exitCode !== null ? resolve() : server.on('exit', resolve)));
      rmSync(root, { recursive: true, force: true });
    },
  };
  return company;
}

// A page signed in as `role`, at `width` x `height`, that collects every
// console error and uncaught exception into page.problems.
export async function signIn(company, role, { width = 1280, height = 800 } = {}) {
  const context = await company.browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.problems.push(m.text());
  });
  page.on('pageerror', (e) => page.problems.push(`uncaught: ${e.message}`));
  // The console says only "404"; name the request.
  page.on('response', (r) => {
    if (r.status() >= 400) page.problems.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  await page.goto(company.url + '/');
  await page.getByLabel('Token').fill(company.tokens[role]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.top .who').waitFor();
  return page;
}

export async function shoot(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
  chmodSync(join(screenshots, `${name}.png`), 0o600);  // pages show people's names
}
