// The browser's evidence-bundle verifier (src/verify.js), run in Node (its
// global crypto.subtle has SHA-256 and Ed25519, as browsers do).
//
// The bundle under test comes from, in order:
//   BUNDLE_FILE + BUNDLE_KEY_FILE   a bundle and its verifier key (the key file: the bare key,
//                                   or JSON with "verifier_key", as `key show --json` prints)
//   CUSTODIAN_BIN                   a small demo store made here, bundled by the binary; this
//                                   also tests a windowed bundle and a proof of absence
// With neither, the bundle tests are skipped and only the vectors run.
//
// The external vectors in ../shared/testdata (relative to the project root):
// merkle/ (RFC 6962/9162 inclusion and consistency proofs, transparency-dev),
// signed-note/go-vectors.json (C2SP signed notes, Go reference) and
// wycheproof/ed25519_test.json.
//
//   cd web && BUNDLE_FILE=... BUNDLE_KEY_FILE=... node --test tests/verify.test.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  base64Decode,
  base64Encode,
  compactJson,
  ed25519Verify,
  formatRfc3339,
  hashChildren,
  hashLeaf,
  keyId,
  leafHashOfEventJson,
  parseCheckpoint,
  parseJson,
  parseRfc3339,
  parseVerifierKey,
  toHex,
  verifyBundle,
  verifyConsistency,
  verifyInclusion,
  verifyNote,
} from '../src/verify.js';

const here = dirname(fileURLToPath(import.meta.url));
const testdata = join(here, '..', '..', '..', 'shared', 'testdata');
const haveTestdata = existsSync(testdata);

// ---------------------------------------------------------------------------
// The bundle under test.

function readKeyFile(file) {
  const text = readFileSync(file, 'utf8').trim();
  return text.startsWith('{') ? JSON.parse(text).verifier_key : text.split('\n')[0].trim();
}

let work; // a temporary directory, when the bundle is generated here
let fixture = null; // {text, key, window?, absent?}

function generate(bin) {
  work = mkdtempSync(join(tmpdir(), 'custodian-verify-'));
  const data = join(work, 'store');
  const cli = (...args) =>
    execFileSync(bin, ['--data', data, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const tour = JSON.parse(cli('demo', '--staff', '8', '--customers', '40', '--years', '1', '--json'));
  cli('checkpoint');
  const key = cli('key', 'show').trim();
  const customer = tour.handed_over_customer || tour.overdue_customer;
  const bundle = (name, ...args) => {
    const out = join(work, name);
    cli('--as', 'staff-1', 'bundle', ...args, '--out', out);
    return readFileSync(out, 'utf8');
  };
  const text = bundle('full.json', '--stream', customer);
  // A window around the middle events: the others are accounted for by hash.
  const times = JSON.parse(text).events.map((e) => e.event.occurred_at);
  const mid = Math.floor(times.length / 2);
  const window = bundle('window.json', '--stream', customer, '--from', times[mid - 1], '--to', times[mid + 1]);
  const absent = bundle('absent.json', '--stream', 'customer-987654321');
  return { text, key, window, absent };
}

before(() => {
  if (process.env.BUNDLE_FILE) {
    assert.ok(process.env.BUNDLE_KEY_FILE, 'BUNDLE_FILE needs BUNDLE_KEY_FILE');
    fixture = { text: readFileSync(process.env.BUNDLE_FILE, 'utf8'), key: readKeyFile(process.env.BUNDLE_KEY_FILE) };
  } else if (process.env.CUSTODIAN_BIN) {
    fixture = generate(process.env.CUSTODIAN_BIN);
  }
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const needBundle = (t) => {
  if (!fixture) t.skip('no bundle: set BUNDLE_FILE and BUNDLE_KEY_FILE, or CUSTODIAN_BIN');
  return !fixture;
};

// --- editing a bundle's text without re-serializing it (numbers and escapes stay as written) ---

// The index just past the JSON value starting at `i` (core/json.cc SkipValue).
function skipValue(t, i) {
  if (t[i] === '"') {
    for (++i; t[i] !== '"'; ++i) if (t[i] === '\\') ++i;
    return i + 1;
  }
  if (t[i] === '{' || t[i] === '[') {
    let depth = 0;
    for (; i < t.length; ++i) {
      if (t[i] === '"') i = skipValue(t, i) - 1;
      else if (t[i] === '{' || t[i] === '[') ++depth;
      else if ((t[i] === '}' || t[i] === ']') && --depth === 0) return i + 1;
    }
    return i;
  }
  while (i < t.length && !',}] \t\r\n'.includes(t[i])) ++i;
  return i;
}
const skipSpace = (t, i) => {
  while (' \t\r\n'.includes(t[i])) ++i;
  return i;
};

// [start, end) of the value of the top-level member `name`.
function memberSpan(t, name) {
  let i = skipSpace(t, 0) + 1;
  for (;;) {
    i = skipSpace(t, i);
    const keyEnd = skipValue(t, i);
    const key = JSON.parse(t.slice(i, keyEnd));
    const start = skipSpace(t, skipSpace(t, keyEnd) + 1); // past the colon
    const end = skipValue(t, start);
    if (key === name) return [start, end];
    i = skipSpace(t, end);
    if (t[i] !== ',') throw new Error(`no member ${name}`);
    ++i;
  }
}

// [start, end) of each item of the "events" array.
function eventSpans(t) {
  const [start] = memberSpan(t, 'events');
  const spans = [];
  for (let i = start + 1; ; ) {
    i = skipSpace(t, i);
    if (t[i] === ']') return spans;
    const end = skipValue(t, i);
    spans.push([i, end]);
    i = skipSpace(t, end);
    if (t[i] === ',') ++i;
  }
}

// `t` without the events item at `index` (and its separating comma).
function removeEvent(t, index) {
  const spans = eventSpans(t);
  const [s, e] = spans[index];
  if (spans.length === 1) return t.slice(0, s) + t.slice(e);
  if (index + 1 < spans.length) return t.slice(0, s) + t.slice(spans[index + 1][0]);
  return t.slice(0, spans[index - 1][1]) + t.slice(e);
}

// The C2SP signature line for `text` by an Ed25519 key pair made here.
async function newKey(name) {
  const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  const id = await keyId(name, publicKey);
  const vkey = `${name}+${id.toString(16).padStart(8, '0')}+${base64Encode(new Uint8Array([1, ...publicKey]))}`;
  const sign = async (text) => {
    const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, new TextEncoder().encode(text)));
    const raw = new Uint8Array([(id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255, ...sig]);
    return `${text}\n\u2014 ${name} ${base64Encode(raw)}\n`;
  };
  return { vkey, sign };
}

// ---------------------------------------------------------------------------
// Bundles

describe('evidence bundles', () => {
  test('the bundle verifies with the published key', async (t) => {
    if (needBundle(t)) return;
    const b = JSON.parse(fixture.text);
    const v = await verifyBundle(fixture.text, fixture.key);
    assert.deepEqual(v.problems, []);
    assert.equal(v.ok, true);
    assert.equal(v.stream, b.stream);
    assert.equal(v.events, b.events.length);
    const [, size, root] = b.checkpoint.split('\n');
    assert.equal(v.size, Number(size));
    assert.equal(v.root, root);
    assert.equal(v.statement, b.summary, 'the summary it states is the one derived from the verified events');
    assert.equal(v.from, b.from);
    assert.equal(v.to, b.to);
    assert.match(v.summary, /^bundle verified: \d+ events of /);
    if (b.format === 'custodian-evidence/3') {
      assert.equal(v.complete, true);
      assert.match(v.completeness, /^complete: /);
    }
    // Bytes work as well as text, and a pasted key may bring a newline.
    const again = await verifyBundle(new TextEncoder().encode(fixture.text), `  ${fixture.key}\n`);
    assert.equal(again.ok, true, again.problems.join('; '));
  });

  test('an event whose data was altered fails, naming that event', async (t) => {
    if (needBundle(t)) return;
    const b = JSON.parse(fixture.text);
    const spans = eventSpans(fixture.text);
    const k = Math.floor(spans.length / 2);
    const [s, e] = spans[k];
    const item = fixture.text.slice(s, e);
    // A string inside its data: the summary when it has one.
    const dataAt = item.indexOf('"data":{');
    const summaryAt = item.indexOf('"summary":"', dataAt);
    const at = summaryAt > 0 ? summaryAt + '"summary":"'.length : item.indexOf('":"', dataAt) + 3;
    assert.ok(dataAt > 0 && at > dataAt, 'the event has a string in its data');
    const edited = fixture.text.slice(0, s + at) + 'X' + fixture.text.slice(s + at);
    const v = await verifyBundle(edited, fixture.key);
    assert.equal(v.ok, false);
    assert.equal(v.problems.length, 1, v.problems.join('\n'));
    const { id, position } = b.events[k].event;
    assert.ok(v.problems[0].startsWith(`event at position ${position} (${id}) is not in the signed log as shown`), v.problems[0]);
    assert.match(v.summary, /^BUNDLE VERIFICATION FAILED: /);
  });

  test("a personal part is shown exactly where the log holds one, sealed for the person the event's data names", async (t) => {
    if (needBundle(t)) return;
    const b = JSON.parse(fixture.text);
    const shown = (p) => p && typeof p === 'object' && Object.keys(p).length > 0;
    const k = b.events.findIndex((x) => shown(x.event.personal));
    const bare = b.events.findIndex((x) => !shown(x.event.personal));
    if (k < 0 || bare < 0) return t.skip('the bundle needs events with and without a personal part');
    // The verdict counts the parts shown opened: the proof covers only their sealed form.
    const opened = b.events.filter((x) => shown(x.event.personal) && !('sealed_for' in x.event.personal)).length;
    const fine = await verifyBundle(fixture.text, fixture.key);
    assert.equal(fine.personalShown, opened);
    // The personal member of event `i`'s "event" object replaced by `value` (inserted when it has none).
    const withPersonal = (i, value) => {
      const [s, e] = eventSpans(fixture.text)[i];
      const item = fixture.text.slice(s, e);
      const [es] = memberSpan(item, 'event');
      const ev = item.slice(es, skipValue(item, es));
      const at = ev.indexOf('"personal":');
      const edited = at < 0
        ? `{"personal":${value},${ev.slice(1)}`
        : ev.slice(0, at) + `"personal":${value}` + ev.slice(skipValue(ev, at + '"personal":'.length));
      return fixture.text.slice(0, s + es) + edited + fixture.text.slice(s + es + ev.length);
    };
    const { id, position, stream, data } = b.events[k].event;
    const at = `event at position ${position} (${id})`;
    const hidden = await verifyBundle(withPersonal(k, 'null'), fixture.key);
    assert.deepEqual(hidden.problems, [`${at} has a sealed personal part in the log that the bundle does not show`]);
    const made = await verifyBundle(withPersonal(bare, '{"notes":"invented"}'), fixture.key);
    assert.equal(made.ok, false);
    assert.match(made.problems[0], /shows a personal part, but the log holds none for it$/);
    const subject = data.contact_id ? `${stream}/contact-${data.contact_id}` : stream;
    const moved = await verifyBundle(withPersonal(k, '{"sealed_for":"customer-1/contact-someone-else"}'), fixture.key);
    assert.deepEqual(moved.problems, [
      `${at}: its personal part is shown as sealed for "customer-1/contact-someone-else", but the event's data makes it ${subject}'s`,
    ]);
    const sealed = await verifyBundle(withPersonal(k, JSON.stringify({ sealed_for: subject })), fixture.key);
    assert.equal(sealed.ok, true, sealed.problems.join('; '));
    // Text beside a right sealed_for is text shown opened; a reason it is not opened is not.
    const wasOpened = !('sealed_for' in b.events[k].event.personal) ? 1 : 0;
    assert.equal(sealed.personalShown, opened - wasOpened);
    const beside = await verifyBundle(withPersonal(k, JSON.stringify({ sealed_for: subject, name: 'Forged Name' })), fixture.key);
    assert.equal(beside.ok, true, beside.problems.join('; '));
    assert.equal(beside.personalShown, opened - wasOpened + 1);
    const reason = await verifyBundle(withPersonal(k, JSON.stringify({ sealed_for: subject, unavailable: 'no key here' })), fixture.key);
    assert.equal(reason.personalShown, opened - wasOpened);
  });

  test('a file larger than any bundle could be is refused before it is read, as verify-bundle refuses it', async () => {
    const v = await verifyBundle(new Uint8Array(256 * 1024 * 1024 + 1), 'any');
    assert.equal(v.ok, false);
    assert.deepEqual(v.problems, ['the file holds more than 256 MiB, more than any evidence bundle could be']);
  });

  test("a bundle's stream must be a name the log takes: a look-alike cannot pass for a stream with events", async (t) => {
    if (needBundle(t) || !fixture.absent) return;
    const [s, e] = memberSpan(fixture.absent, 'stream');
    const stream = JSON.parse(fixture.absent.slice(s, e));
    for (const lookalike of [`${stream}\u200b`, `${stream}\u001b[K`, stream.toUpperCase()]) {
      const v = await verifyBundle(fixture.absent.slice(0, s) + JSON.stringify(lookalike) + fixture.absent.slice(e), fixture.key);
      assert.equal(v.ok, false);
      assert.match(v.problems[0], /^the bundle's stream ".*" is not a stream name$/);
    }
  });

  test('several altered events are all named', async (t) => {
    if (needBundle(t)) return;
    const b = JSON.parse(fixture.text);
    if (b.events.length < 3) return t.skip('too few events');
    let text = fixture.text;
    for (const k of [b.events.length - 1, 0]) {
      const [s] = eventSpans(text)[k];
      const at = text.indexOf('"type":"', s) + '"type":"'.length;
      text = text.slice(0, at) + 'x' + text.slice(at);
    }
    const v = await verifyBundle(text, fixture.key);
    assert.equal(v.ok, false);
    assert.equal(v.problems.length, 2, v.problems.join('\n'));
    assert.ok(v.problems[0].includes(b.events[0].event.id));
    assert.ok(v.problems[1].includes(b.events[b.events.length - 1].event.id));
  });

  test('an event removed from the middle fails: the versions are not consecutive', async (t) => {
    if (needBundle(t)) return;
    const b = JSON.parse(fixture.text);
    if (b.events.length < 3) return t.skip('too few events');
    const k = Math.floor(b.events.length / 2);
    const v = await verifyBundle(removeEvent(fixture.text, k), fixture.key);
    assert.equal(v.ok, false);
    const next = b.events[k + 1].event;
    assert.equal(
      v.problems[0],
      `event at position ${next.position} (${next.id}) is version ${next.version} after version ${next.version - 2}: events of the stream are missing from the bundle`,
    );
  });

  test('the last event removed fails completeness: the signed stream map counts it', async (t) => {
    if (needBundle(t)) return;
    const b = JSON.parse(fixture.text);
    if (b.format !== 'custodian-evidence/3' || b.events.length < 2) return t.skip('not a format 3 bundle of 2 events or more');
    const v = await verifyBundle(removeEvent(fixture.text, b.events.length - 1), fixture.key);
    assert.equal(v.ok, false);
    assert.match(
      v.problems[0],
      new RegExp(`^incomplete: the signed stream map says ${b.stream} has ${b.completeness.leaf.events} events in the log at size \\d+, .* 1 event\\(s\\) after version \\d+ are missing$`),
    );
  });

  test('the first event removed fails: the stream is missing its start', async (t) => {
    if (needBundle(t)) return;
    const b = JSON.parse(fixture.text);
    if (b.format !== 'custodian-evidence/3' || b.events.length < 2 || b.events[0].event.version !== 0) return t.skip('not a bundle from version 0');
    const v = await verifyBundle(removeEvent(fixture.text, 0), fixture.key);
    assert.equal(v.ok, false);
    assert.match(v.problems[0], /^the bundle starts at version 1 but does not account for the stream's earlier events/);
  });

  test('another key, valid in form, fails the checkpoint signature', async (t) => {
    if (needBundle(t)) return;
    const origin = fixture.key.split('+')[0];
    for (const name of [origin, 'someone.else/log']) {
      const other = await newKey(name);
      const v = await verifyBundle(fixture.text, other.vkey);
      assert.equal(v.ok, false);
      assert.equal(v.problems.length, 1);
      assert.match(v.problems[0], /^the checkpoint: the note has no signature by /);
    }
  });

  test('the key inside the bundle is never trusted', async (t) => {
    if (needBundle(t)) return;
    const origin = fixture.key.split('+')[0];
    const forger = await newKey(origin);
    // The bundle's own key replaced by the forger's: the pasted key decides.
    const [s, e] = memberSpan(fixture.text, 'verifier_key');
    const swapped = fixture.text.slice(0, s) + JSON.stringify(forger.vkey) + fixture.text.slice(e);
    assert.equal((await verifyBundle(swapped, fixture.key)).ok, true);
    const none = await verifyBundle(fixture.text, '');
    assert.equal(none.ok, false);
    assert.match(none.problems[0], /^no verifier key was given/);
  });

  test('a tampered checkpoint root fails its signature', async (t) => {
    if (needBundle(t)) return;
    const b = JSON.parse(fixture.text);
    const root = b.checkpoint.split('\n')[2];
    const flipped = (root[0] === 'A' ? 'B' : 'A') + root.slice(1);
    const [s, e] = memberSpan(fixture.text, 'checkpoint');
    const edited = fixture.text.slice(0, s) + fixture.text.slice(s, e).replace(root, flipped) + fixture.text.slice(e);
    const v = await verifyBundle(edited, fixture.key);
    assert.equal(v.ok, false);
    assert.match(v.problems[0], /^the checkpoint: the signature by \S+ does not match the note's text/);
  });

  test("a checkpoint forged with another key, and that key pasted: the events' proofs fail", async (t) => {
    if (needBundle(t)) return;
    const b = JSON.parse(fixture.text);
    const [origin, size, root] = b.checkpoint.split('\n');
    const forger = await newKey(origin);
    const flipped = (root[0] === 'A' ? 'B' : 'A') + root.slice(1);
    const forged = await forger.sign(`${origin}\n${size}\n${flipped}\n`);
    const [s, e] = memberSpan(fixture.text, 'checkpoint');
    const edited = fixture.text.slice(0, s) + JSON.stringify(forged) + fixture.text.slice(e);
    const v = await verifyBundle(edited, forger.vkey);
    assert.equal(v.ok, false);
    assert.equal(v.problems.length, b.events.length, 'every event is refused');
    assert.match(v.problems[0], /is not in the signed log as shown .*: the proof yields root [0-9a-f]{64} but the expected one is/);
  });

  test('edited statements are named: summary, from', async (t) => {
    if (needBundle(t)) return;
    const [s, e] = memberSpan(fixture.text, 'summary');
    const summary = JSON.parse(fixture.text.slice(s, e));
    const edited = fixture.text.slice(0, s) + JSON.stringify(summary.replace(/\d+ events/, '2 events')) + fixture.text.slice(e);
    const v = await verifyBundle(edited, fixture.key);
    assert.equal(v.ok, false);
    assert.match(v.problems[0], /^the bundle's "summary" does not say what its verified events and checkpoint say: from character \d+ it says "2 events/);
    const [fs, fe] = memberSpan(fixture.text, 'from');
    const from = await verifyBundle(fixture.text.slice(0, fs) + '"2001-01-01T00:00:00Z"' + fixture.text.slice(fe), fixture.key);
    assert.match(from.problems[0], /^the bundle's "from" is "2001-01-01T00:00:00Z" but its events occurred from /);
  });

  test('a windowed bundle accounts for the other events by hash (needs CUSTODIAN_BIN)', async (t) => {
    if (!fixture?.window) return t.skip('no CUSTODIAN_BIN');
    const b = JSON.parse(fixture.window);
    const v = await verifyBundle(fixture.window, fixture.key);
    assert.equal(v.ok, true, v.problems.join('\n'));
    assert.equal(v.withheld, b.completeness.leaf.events - b.events.length);
    assert.ok(v.withheld > 0);
    assert.match(v.completeness, /\(\d+ by their hashes only\)$/);
    // Dropping a withheld hash at the end, or the one before the window, is caught.
    const c = b.completeness;
    if (c.later_leaf_hashes?.length) {
      const [s, e] = memberSpan(fixture.window, 'completeness');
      const part = fixture.window.slice(s, e);
      const last = JSON.stringify(c.later_leaf_hashes.at(-1));
      const dropped = part.replace(c.later_leaf_hashes.length === 1 ? last : ',' + last, '');
      const w = await verifyBundle(fixture.window.slice(0, s) + dropped + fixture.window.slice(e), fixture.key);
      assert.match(w.problems[0], /^incomplete: /);
    }
    if (c.running_before_sha256) {
      const [s, e] = memberSpan(fixture.window, 'completeness');
      const part = fixture.window.slice(s, e).replace(c.running_before_sha256, 'A'.repeat(43) + '=');
      const w = await verifyBundle(fixture.window.slice(0, s) + part + fixture.window.slice(e), fixture.key);
      assert.match(w.problems[0], /do not hash to the stream's signed running hash/);
    }
  });

  test('a proof of absence verifies, and cannot hide an event (needs CUSTODIAN_BIN)', async (t) => {
    if (!fixture?.absent) return t.skip('no CUSTODIAN_BIN');
    const v = await verifyBundle(fixture.absent, fixture.key);
    assert.equal(v.ok, true, v.problems.join('\n'));
    assert.equal(v.events, 0);
    assert.match(v.completeness, /^complete: the signed stream map proves that customer-987654321 has no events/);
    // The absence proof of another stream does not serve for this one.
    const [s, e] = memberSpan(fixture.absent, 'stream');
    const renamed = fixture.absent.slice(0, s) + '"customer-987654322"' + fixture.absent.slice(e);
    const w = await verifyBundle(renamed, fixture.key);
    assert.equal(w.ok, false);
    assert.match(w.problems[0], /^the map proof/);
  });

  test('garbage gives ok:false with a reason, never an exception', async () => {
    const key = fixture?.key ?? 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    const inputs = [
      'hello', '', '   ', '{', '[]', '{}', 'null', '42', '{"format":"custodian-evidence/3"}',
      '{"format":"custodian-evidence/3","checkpoint":"x\\n\\n— y z\\n"}',
      '{"format":"custodian-evidence/3","events":[1,{"event":[]}],"checkpoint":5}',
      '\ufeff{}', '{"a":1,}', '{"a":"\\ud800"}', '['.repeat(100),
      null, undefined, 42, {}, [], new Uint8Array([0xff, 0xfe, 0x00]), new ArrayBuffer(3),
    ];
    if (fixture) inputs.push(fixture.text.slice(0, fixture.text.length >> 1), fixture.text.replace(/"position":\d+/, '"position":-1'));
    for (const input of inputs) {
      const v = await verifyBundle(input, key);
      assert.equal(v.ok, false, `accepted ${String(input).slice(0, 40)}`);
      assert.ok(v.problems.length >= 1 && v.problems.every((p) => typeof p === 'string' && p.length > 0));
      assert.ok(!v.problems[0].startsWith('internal error'), v.problems[0]);
    }
    const notJson = await verifyBundle('hello', key);
    assert.match(notJson.problems[0], /^the file is not a JSON evidence bundle \(invalid JSON/);
    for (const bad of ['nonsense', 'a+b+c', 'a+0000000+AAAA', 'PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 42, null]) {
      const v = await verifyBundle(fixture?.text ?? '{"format":"custodian-evidence/3"}', bad);
      assert.equal(v.ok, false);
      assert.match(v.problems[0], /key/);
    }
  });
});

// ---------------------------------------------------------------------------
// External vectors

// Every .json file under `dir`, sorted.
function vectors(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...vectors(path));
    else if (name.endsWith('.json')) out.push(path);
  }
  return out;
}
const proofOf = (p) => (p === null ? [] : p.map(base64Decode)); // some vectors write an empty proof as null

describe('external vectors (../shared/testdata)', { skip: !haveTestdata && `no ${testdata}` }, () => {
  test('inclusion proofs agree with every transparency-dev vector', async () => {
    const files = vectors(join(testdata, 'merkle', 'inclusion'));
    assert.ok(files.length > 50);
    let accepted = 0;
    let refused = 0;
    for (const file of files) {
      const v = JSON.parse(readFileSync(file, 'utf8'));
      const r = await verifyInclusion(v.leafIdx, v.treeSize, base64Decode(v.leafHash), proofOf(v.proof), base64Decode(v.root));
      assert.equal(r.ok, !v.wantErr, `${file} (${v.desc}): ${r.problem}`);
      r.ok ? ++accepted : ++refused;
    }
    assert.ok(accepted > 0 && refused > 0);
  });

  test('consistency proofs agree with every transparency-dev vector', async () => {
    const files = vectors(join(testdata, 'merkle', 'consistency'));
    assert.ok(files.length > 50);
    let accepted = 0;
    let refused = 0;
    for (const file of files) {
      const v = JSON.parse(readFileSync(file, 'utf8'));
      const r = await verifyConsistency(v.size1, v.size2, proofOf(v.proof), base64Decode(v.root1), base64Decode(v.root2));
      assert.equal(r.ok, !v.wantErr, `${file} (${v.desc}): ${r.problem}`);
      r.ok ? ++accepted : ++refused;
    }
    assert.ok(accepted > 0 && refused > 0);
  });

  test("the RFC 6962 reference tree's root is the vectors' root of size 8", async () => {
    const hex = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
    const leaves = await Promise.all(hex.map((h) => hashLeaf(Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16)))));
    const root = async (a, b) => {
      if (b - a === 1) return leaves[a];
      let k = 1;
      while (k * 2 < b - a) k *= 2;
      return hashChildren(await root(a, a + k), await root(a + k, b));
    };
    const v = JSON.parse(readFileSync(join(testdata, 'merkle', 'inclusion', '1', 'happy-path.json'), 'utf8'));
    assert.equal(base64Encode(await root(0, 8)), v.root);
    assert.equal(base64Encode(leaves[0]), v.leafHash);
  });

  test('signed notes: the Go reference vectors open (or are refused) as they should', async () => {
    const g = JSON.parse(readFileSync(join(testdata, 'signed-note', 'go-vectors.json'), 'utf8'));
    const key = await parseVerifierKey(g.verifier_key);
    assert.equal(key.name, g.key_name);
    assert.equal(key.keyId.toString(16).padStart(8, '0'), g.key_id_hex);
    assert.equal(base64Encode(key.publicKey), g.public_key_base64);
    assert.equal(key.text, g.verifier_key);
    let valid = 0;
    let invalid = 0;
    for (const c of g.cases) {
      const r = await verifyNote(c.signed_note, g.verifier_key);
      assert.equal(r.ok, c.want_valid, `${c.desc}: ${r.problem}`);
      if (c.want_valid) {
        ++valid;
        assert.equal(r.text, c.text);
      } else {
        ++invalid;
        assert.match(r.problem, /does not match the note's text/);
      }
    }
    assert.ok(valid >= 2 && invalid >= 1);
    // The checkpoint case: origin, size and the reference tree's root.
    const cp = parseCheckpoint(g.cases[2].text);
    assert.equal(cp.origin, 'PeterNeumann');
    assert.equal(cp.size, 8n);
    assert.equal(base64Encode(cp.root), 'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=');
    // A note by another key, or with no signature line by this one, is refused.
    const other = await verifyNote(g.cases[0].signed_note.replace('PeterNeumann x08g', 'PeterNeumann x08h'), g.verifier_key);
    assert.equal(other.ok, false);
    assert.equal((await verifyNote(g.cases[0].text, g.verifier_key)).ok, false);
  });

  test('signing with the Go reference key in WebCrypto reproduces its notes byte for byte', async () => {
    // Checks this file's forging helper as much as anything: Ed25519 is deterministic.
    const g = JSON.parse(readFileSync(join(testdata, 'signed-note', 'go-vectors.json'), 'utf8'));
    // PRIVATE+KEY+<name>+<id>+<base64(0x01 ‖ seed)>: the base64 may itself hold '+'.
    const seed = base64Decode(g.signer_key.split('+').slice(4).join('+')).subarray(1);
    const pkcs8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20, ...seed]);
    const priv = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
    for (const c of g.cases.filter((c) => c.want_valid)) {
      const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, priv, new TextEncoder().encode(c.text)));
      const raw = new Uint8Array([...Buffer.from(g.key_id_hex, 'hex'), ...sig]);
      assert.equal(`${c.text}\n\u2014 ${g.key_name} ${base64Encode(raw)}\n`, c.signed_note);
    }
  });

  test('Ed25519: every Wycheproof vector is accepted or refused as it should be', async () => {
    const file = JSON.parse(readFileSync(join(testdata, 'wycheproof', 'ed25519_test.json'), 'utf8'));
    const unhex = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
    let valid = 0;
    let invalid = 0;
    for (const group of file.testGroups) {
      const pk = unhex(group.publicKey.pk);
      for (const tc of group.tests) {
        const ok = await ed25519Verify(pk, unhex(tc.msg), unhex(tc.sig));
        assert.equal(ok, tc.result === 'valid', `tcId ${tc.tcId} (${tc.comment}): expected ${tc.result}`);
        tc.result === 'valid' ? ++valid : ++invalid;
      }
    }
    assert.equal(valid + invalid, file.numberOfTests);
    assert.equal(valid, 88);
    assert.equal(invalid, 62);
  });
});

// ---------------------------------------------------------------------------
// The parts, against the project's own documented examples

describe('canonical bytes, JSON and times', () => {
  test("the worked example of docs/event-format.md has its documented leaf hash", async () => {
    const event =
      '{"id": "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44", "stream": "customer-42",\n' +
      ' "type": "interaction.logged", "schema": 1, "actor": "staff-7",\n' +
      ' "occurred_at": "2026-03-01T10:15:00Z", "source": "crm",\n' +
      ' "data": {"channel":"call","direction":"outbound"},\n' +
      ' "position": 41, "version": 2, "recorded_at": "2026-03-01T10:15:02.500000Z"}';
    assert.equal(toHex(await leafHashOfEventJson(event)), 'c146be23025fabf78245037ad806a345a3ab39632275cd4bd7d698a540cd4f09');
    // Whitespace in data does not change the hash; key order and number spelling do.
    assert.equal(toHex(await leafHashOfEventJson(event.replace('{"channel":"call"', '{ "channel" : "call"'))), 'c146be23025fabf78245037ad806a345a3ab39632275cd4bd7d698a540cd4f09');
    assert.notEqual(toHex(await leafHashOfEventJson(event.replace('"schema": 1', '"schema": 2'))), 'c146be23025fabf78245037ad806a345a3ab39632275cd4bd7d698a540cd4f09');
  });

  test('an event the API appended (recorded_by) hashes in canonical format 2, as the C++ does', async () => {
    // The same value as tests/core/canonical_test.cc, computed apart from both.
    const event =
      '{"id": "7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44", "stream": "customer-42",\n' +
      ' "type": "interaction.logged", "schema": 1, "actor": "staff-7",\n' +
      ' "occurred_at": "2026-03-01T10:15:00Z", "source": "crm",\n' +
      ' "data": {"channel":"call","direction":"outbound"},\n' +
      ' "position": 41, "version": 2, "recorded_at": "2026-03-01T10:15:02.500000Z", "recorded_by": "tok-0123456789abcdef"}';
    assert.equal(toHex(await leafHashOfEventJson(event)), '349e7998a0e60d4c0878a5a02e0ce50bb3c82fe8e5476a84e8c7dbdb968ca0f3');
    const other = event.replace('tok-0123456789abcdef', 'tok-fedcba9876543210');
    assert.notEqual(toHex(await leafHashOfEventJson(other)), '349e7998a0e60d4c0878a5a02e0ce50bb3c82fe8e5476a84e8c7dbdb968ca0f3');
    await assert.rejects(leafHashOfEventJson(event.replace('"tok-0123456789abcdef"', '""')), /recorded_by/);
    await assert.rejects(leafHashOfEventJson(event.replace('"tok-0123456789abcdef"', '7')), /recorded_by/);
  });

  test('data is compacted as CompactJson does: numbers as written, Boost-style escapes', () => {
    const { root, duplicate } = parseJson('{"n" : 1.10, "big": 12345678901234567890123, "tiny": 1e-400, "s": "caf\\u00e9 \\/ \\u0001\\t\\u007f", "a": [ 1 , {"b": null} ] }');
    assert.equal(duplicate, null);
    assert.equal(compactJson(root), '{"n":1.10,"big":12345678901234567890123,"tiny":1e-400,"s":"café / \\u0001\\t\u007f","a":[1,{"b":null}]}');
    assert.equal(parseJson('{"items":[{"id":1},{"id":2,"id":3}]}').duplicate, 'items[1].id');
    assert.throws(() => parseJson('['.repeat(33) + ']'.repeat(33)), /too deep/);
    assert.doesNotThrow(() => parseJson('['.repeat(32) + ']'.repeat(32)));
  });

  test('RFC 3339 times read and print as core/time.cc does', () => {
    assert.equal(formatRfc3339(parseRfc3339('2026-03-01T10:15:00.25+02:00')), '2026-03-01T08:15:00.250000Z');
    assert.equal(parseRfc3339('2026-03-01T10:15:02.500000Z'), 1772360102500000n);
    assert.equal(formatRfc3339(parseRfc3339('1969-07-20T20:17:40Z')), '1969-07-20T20:17:40Z');
    assert.equal(formatRfc3339(parseRfc3339('9999-12-31T23:59:60.9999999z')), '9999-12-31T23:59:59.999999Z');
    for (const bad of ['2026-02-30T00:00:00Z', '2026-03-01T10:15:00', '0000-01-01T00:00:00Z', '0001-01-01T00:30:00+01:00']) {
      assert.throws(() => parseRfc3339(bad), /is not an RFC 3339 time/);
    }
  });

  test('a refusal quotes the value as core/text.cc does: escapes shown, cut after whole characters', () => {
    // 12 bytes of escapes and 51 letters: the "ü" starts before the 64-byte limit, so it is shown whole.
    const hostile = `\x1b]0;x\x07${'a'.repeat(51)}üb\u202e`;
    assert.throws(() => parseRfc3339(hostile), (e) => {
      assert.ok(e.message.startsWith(`"\\x1b]0;x\\x07${'a'.repeat(51)}ü..." is not an RFC 3339 time`), e.message);
      return true;
    });
    assert.throws(() => base64Decode('A\tB\u0085\u2066C'), (e) => {
      assert.ok(e.message.startsWith('"A\\tB\\u0085\\u2066C" is not base64'), e.message);
      return true;
    });
  });

  test('base64 is strict: padded and canonical only', () => {
    assert.deepEqual([...base64Decode('AAE=')], [0, 1]);
    for (const bad of ['AAE', 'AAF=', 'AA==AA==', 'AA\nE', '====', 'A===']) {
      assert.throws(() => base64Decode(bad), /is not base64/);
    }
  });
});
