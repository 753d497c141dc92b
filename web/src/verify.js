// Offline verification of a Custodian evidence bundle, in the browser.
//
// A port of `custodian verify-bundle FILE --key KEY` (core/bundle.cc,
// VerifyBundle) to plain JavaScript: no npm package, nothing from the server.
// SHA-256 and Ed25519 come from WebCrypto (crypto.subtle); everything else —
// the JSON reader, base64, RFC 3339 times, the canonical bytes of an event,
// RFC 6962/9162 Merkle proofs, C2SP signed notes and the stream map — is
// written out here, each part naming the C++ function it mirrors. The only
// thing trusted is the verifier key the auditor pastes: the key inside the
// bundle is never used.
//
// Formats: docs/tamper-evidence.md (what is checked and why), docs/event-format.md
// ("Canonical bytes"), core/bundle.h (the bundle's fields).
//
// What verifyBundle checks, in the C++'s order:
//  1. the file is one JSON object (read as strictly as Boost.JSON reads it)
//     of format custodian-evidence/3 (or the older /2 and /1);
//  2. the pasted key parses and its key id matches its public key;
//  3. the checkpoint note carries a valid Ed25519 signature by that key, its
//     body is a C2SP checkpoint, and its origin is the key's name;
//  4. each event: its fields parse; it belongs to the bundle's stream; its
//     version follows the one before; its leaf hash, recomputed from its
//     fields (canonical bytes, with SHA-256 of its data as written and the
//     bundle's personal_sha256 for its sealed personal part), is proven by
//     its inclusion proof against the checkpoint's root; a personal part is
//     shown exactly when personal_sha256 is not that of no part, and one
//     shown sealed names the person the event's data names;
//  5. format 3: the stream map note is signed by the same key for the same
//     log, size and root; the map proof leads from the stream's leaf (or an
//     empty subtree / another stream's leaf: proof of absence) to the signed
//     map root; the running hash over the events held and the withheld leaf
//     hashes equals the signed one, and the counts add up (no event missing,
//     added, swapped or moved);
//  6. "from", "to" and "summary" say exactly what the verified events and
//     checkpoint say (format 1: not checked, and listed as unchecked).
//
// verifyBundle, verifyInclusion, verifyConsistency and verifyNote never
// throw; the other exported helpers throw an Error whose message is the reason.
//
// Differences from the C++ (deliberate, and only where the C++ stops or crashes):
//  - The C++ returns the first problem. Here `problems[0]` is that same first
//    problem; the events after a failing one are still checked (one problem
//    per event at most), so several altered events are all named. The checks
//    that build on every event (completeness, from/to, summary) run only when
//    all events verified, as in the C++.
//  - The pasted key is trimmed of surrounding white space (a paste often
//    brings a newline).
//  - A position or version that is not a whole number of 0 or more is a
//    problem here; the C++ (Boost's to_number without an error code) throws
//    and aborts.
//
// Browser notes: crypto.subtle exists only in a secure context (https or
// localhost), and Ed25519 in WebCrypto needs a recent browser (Chrome 137,
// Firefox 129, Safari 17). Pass the file as bytes (ArrayBuffer / Uint8Array)
// when you can: its UTF-8 is then checked as strictly as the C++ checks it,
// while `File.text()` silently replaces invalid bytes.

// ---------------------------------------------------------------------------
// Small helpers

// An expected failure: its message is shown to the auditor as it is.
class Problem extends Error {}

const encoder = new TextEncoder();
const utf8 = (s) => encoder.encode(s);
const U64_MAX = (1n << 64n) - 1n;

function concat(parts) {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u32(v) {
  return new Uint8Array([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

// Big-endian 8 bytes of an unsigned 64-bit value; a negative BigInt (an
// int64 time before 1970) is written as its two's complement, as the C++
// static_cast<uint64_t> does.
function u64(v) {
  let x = BigInt.asUintN(64, BigInt(v));
  const out = new Uint8Array(8);
  for (let i = 7; i >= 0; --i) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

function readU32(b) {
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function toHex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; ++i) if (a[i] !== b[i]) return false;
  return true;
}

// `s` as the C++ quotes what it was given (core/text.cc, OneLineText): on
// one line, controls (C0, DEL, C1) and the bidirectional overrides and
// isolates shown as escapes, cut after whole characters once `max` bytes of
// UTF-8 are shown, then "...".
function oneLine(s, max) {
  let out = '';
  let bytes = 0;
  for (const ch of String(s)) {
    if (bytes >= max) return `${out}...`;
    const cp = ch.codePointAt(0);
    const hex = (width) => cp.toString(16).padStart(width, '0');
    let shown = ch;
    if (cp === 0x0a) shown = '\\n';
    else if (cp === 0x0d) shown = '\\r';
    else if (cp === 0x09) shown = '\\t';
    else if (cp < 0x20 || cp === 0x7f) shown = `\\x${hex(2)}`;
    else if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
      shown = `\\u${hex(4)}`;
    }
    out += shown;
    bytes += utf8(shown).length;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Base64 (core/base64.cc): standard alphabet, padded, and canonical — text
// that re-encodes differently (stray bits, missing padding) is refused.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; ++i) B64_VALUE[B64.charCodeAt(i)] = i;

export function base64Encode(bytes) {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
  }
  if (i + 1 === bytes.length) {
    const v = bytes[i] << 16;
    out += B64[v >> 18] + B64[(v >> 12) & 63] + '==';
  } else if (i + 2 === bytes.length) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64[v >> 18] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + '=';
  }
  return out;
}

// Base64Decode: throws a Problem naming the text.
export function base64Decode(text) {
  const bad = (why) => new Problem(`"${oneLine(text, 60)}" is not base64 (${why})`);
  if (typeof text !== 'string') throw bad('not a string');
  if (text.length % 4 !== 0) throw bad('its length is not a multiple of 4');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3);
  for (let i = 0, o = 0; i < text.length; i += 4, o += 3) {
    let v = 0;
    for (let j = 0; j < 4; ++j) {
      const c = text.charCodeAt(i + j);
      // '=' only as the padding at the very end
      const d = c === 0x3d && i + 4 === text.length && j >= 4 - padding ? 0 : c < 128 ? B64_VALUE[c] : -1;
      if (d < 0) throw bad('a character outside the alphabet');
      v = (v << 6) | d;
    }
    out[o] = v >> 16;
    out[o + 1] = (v >> 8) & 0xff;
    out[o + 2] = v & 0xff;
  }
  const bytes = out.subarray(0, out.length - padding);
  if (base64Encode(bytes) !== text) throw bad('not in canonical form');
  return bytes;
}

// ---------------------------------------------------------------------------
// SHA-256 through WebCrypto.

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) {
    throw new Problem(
      'this browser offers no WebCrypto (crypto.subtle exists only on https:// pages or on localhost), so nothing can be checked here',
    );
  }
  return s;
}

export async function sha256(...parts) {
  const bytes = parts.length === 1 ? parts[0] : concat(parts);
  return new Uint8Array(await subtle().digest('SHA-256', bytes));
}

// ---------------------------------------------------------------------------
// JSON, read as Boost.JSON reads it (core/json.cc CompactJson, default
// parse_options): RFC 8259 only (no comments, no trailing commas), at most 32
// nested objects/arrays, valid UTF-16 escapes only. Numbers keep their text,
// because an event's `data` is hashed as the producer wrote it ("1.10" stays
// "1.10"). A key given twice in one object is recorded (the first such key,
// with its path, as CompactJson names it); the tree keeps the last value, as
// Boost's json::parse does.
//
// Nodes: {t:'o', keys, vals, map} {t:'a', items} {t:'s', v} {t:'n', raw}
// {t:'b', v} {t:'null'}.

class JsonError extends Error {
  constructor(why, offset) {
    super(why);
    this.offset = offset;
  }
}

const MAX_DEPTH = 32;

function hasLoneSurrogate(s) {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

export function parseJson(text) {
  const n = text.length;
  let i = 0;
  let duplicate = null;
  const frames = []; // {object, keys} | {object: false, count}
  const fail = (why) => {
    throw new JsonError(why, i);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) ++i;
      else break;
    }
  };
  // CompactWriter::Path: "items[2].id".
  const path = (key) => {
    let p = '';
    for (let f = 0; f + 1 < frames.length; ++f) {
      const frame = frames[f];
      if (frame.object) {
        if (p) p += '.';
        p += frame.keys[frame.keys.length - 1];
      } else {
        p += `[${frame.count - 1}]`;
      }
    }
    return (p ? p + '.' : '') + key;
  };
  const hex4 = () => {
    let v = 0;
    for (let k = 0; k < 4; ++k) {
      const d = parseInt(text[i + k] ?? 'x', 16);
      if (Number.isNaN(d)) fail('expected a hex digit');
      v = v * 16 + d;
    }
    i += 4;
    return v;
  };
  const string = () => {
    ++i; // the opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('incomplete JSON');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        ++i;
        return out;
      }
      if (c < 0x20) fail('syntax error (a control character inside a string)');
      if (c !== 0x5c) {
        ++i;
        continue;
      }
      out += text.slice(start, i);
      const e = text[++i];
      ++i;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const u1 = hex4();
          if (u1 < 0xd800 || u1 > 0xdfff) {
            out += String.fromCharCode(u1);
          } else if (u1 > 0xdbff) {
            fail('illegal leading surrogate');
          } else {
            if (text[i] !== '\\' || text[i + 1] !== 'u') fail('syntax error (a lone UTF-16 surrogate)');
            i += 2;
            const u2 = hex4();
            if (u2 < 0xdc00 || u2 > 0xdfff) fail('illegal trailing surrogate');
            out += String.fromCharCode(u1, u2);
          }
          break;
        }
        default:
          --i;
          fail('syntax error (an invalid escape)');
      }
      start = i;
    }
  };
  const digits = () => {
    const s = i;
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) ++i;
    return i > s;
  };
  const number = () => {
    const s = i;
    if (text[i] === '-') ++i;
    if (text[i] === '0') ++i;
    else if (!digits()) fail('syntax error');
    if (text[i] === '.') {
      ++i;
      if (!digits()) fail('syntax error');
    }
    if (text[i] === 'e' || text[i] === 'E') {
      ++i;
      if (text[i] === '+' || text[i] === '-') ++i;
      if (!digits()) fail('syntax error');
    }
    return { t: 'n', raw: text.slice(s, i) };
  };
  const literal = (word, node) => {
    if (!text.startsWith(word, i)) fail('syntax error');
    i += word.length;
    return node;
  };
  const value = () => {
    ws();
    if (i >= n) fail('incomplete JSON');
    const c = text[i];
    if (c === '{' || c === '[') {
      if (frames.length >= MAX_DEPTH) fail('the document is too deep (more than 32 nested objects and arrays)');
      ++i;
      return c === '{' ? object() : array();
    }
    if (c === '"') return { t: 's', v: string() };
    if (c === 't') return literal('true', { t: 'b', v: true });
    if (c === 'f') return literal('false', { t: 'b', v: false });
    if (c === 'n') return literal('null', { t: 'null' });
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    return fail('syntax error');
  };
  const object = () => {
    const node = { t: 'o', keys: [], vals: [], map: new Map() };
    frames.push({ object: true, keys: node.keys });
    ws();
    if (text[i] === '}') {
      ++i;
    } else {
      for (;;) {
        ws();
        if (text[i] !== '"') fail('syntax error (expected a key)');
        const key = string();
        if (duplicate === null && node.map.has(key)) duplicate = path(key);
        ws();
        if (text[i] !== ':') fail('expected a colon');
        ++i;
        node.keys.push(key);
        const v = value();
        node.vals.push(v);
        node.map.set(key, v);
        ws();
        if (text[i] === ',') {
          ++i;
          continue;
        }
        if (text[i] === '}') {
          ++i;
          break;
        }
        fail(i >= n ? 'incomplete JSON' : 'expected a comma or a closing brace');
      }
    }
    frames.pop();
    return node;
  };
  const array = () => {
    const node = { t: 'a', items: [] };
    const frame = { object: false, count: 0 };
    frames.push(frame);
    ws();
    if (text[i] === ']') {
      ++i;
    } else {
      for (;;) {
        frame.count = node.items.length + 1;
        node.items.push(value());
        ws();
        if (text[i] === ',') {
          ++i;
          continue;
        }
        if (text[i] === ']') {
          ++i;
          break;
        }
        fail(i >= n ? 'incomplete JSON' : 'expected a comma or a closing bracket');
      }
    }
    frames.pop();
    return node;
  };

  if (hasLoneSurrogate(text)) throw new JsonError('the text is not valid UTF-8', 0);
  const root = value();
  ws();
  if (i < n) fail('text after the JSON value');
  return { root, duplicate };
}

// AppendQuoted (core/json.cc): escapes as Boost.JSON's serializer does —
// \" \\ \b \f \n \r \t, other control characters as \u00XX, nothing else.
const ESCAPES = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
function quote(s) {
  return (
    '"' +
    s.replace(/["\\\u0000-\u001f]/g, (c) => ESCAPES[c] ?? '\\u00' + c.charCodeAt(0).toString(16).padStart(2, '0')) +
    '"'
  );
}

// CompactJson: the value with no white space, strings re-escaped, numbers
// copied as written.
export function compactJson(node) {
  switch (node.t) {
    case 'o':
      return '{' + node.keys.map((k, j) => quote(k) + ':' + compactJson(node.vals[j])).join(',') + '}';
    case 'a':
      return '[' + node.items.map(compactJson).join(',') + ']';
    case 's':
      return quote(node.v);
    case 'n':
      return node.raw;
    case 'b':
      return node.v ? 'true' : 'false';
    default:
      return 'null';
  }
}

// KindName (core/json_arena.h).
function kindName(node) {
  return { null: 'null', b: 'a boolean', n: 'a number', s: 'a string', a: 'an array', o: 'an object' }[node.t];
}

const field = (obj, name) => (obj && obj.t === 'o' ? obj.map.get(name) : undefined);
// StringField (core/bundle.cc): the string, or "" when absent or not a string.
const stringField = (obj, name) => {
  const v = field(obj, name);
  return v && v.t === 's' ? v.v : '';
};
const isInteger = (node) => node.t === 'n' && /^-?\d+$/.test(node.raw);

// Boost's value::to_number<uint64_t>: exact or nothing. An integer literal
// is an int64/uint64 when it fits; anything else is a double, accepted when
// it is whole, not negative and below 2^64.
function toU64(node) {
  if (!node || node.t !== 'n') return null;
  if (isInteger(node)) {
    const v = BigInt(node.raw);
    if (v >= 0n && v <= U64_MAX) return v;
    if (v < 0n && v >= -(1n << 63n)) return null;
  }
  const d = Number(node.raw);
  return Number.isInteger(d) && d >= 0 && d < 2 ** 64 ? BigInt(d) : null;
}

// ---------------------------------------------------------------------------
// RFC 3339 times (core/time.cc), as microseconds since the epoch (BigInt:
// year 9999 does not fit a double's integers).

function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = Math.trunc((y >= 0 ? y : y - 399) / 400);
  const yoe = y - era * 400;
  const doy = Math.trunc((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.trunc(yoe / 4) - Math.trunc(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z) {
  z += 719468;
  const era = Math.trunc((z >= 0 ? z : z - 146096) / 146097);
  const doe = z - era * 146097;
  const yoe = Math.trunc((doe - Math.trunc(doe / 1460) + Math.trunc(doe / 36524) - Math.trunc(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.trunc(yoe / 4) - Math.trunc(yoe / 100));
  const mp = Math.trunc((5 * doy + 2) / 153);
  const d = doy - Math.trunc((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const isLeap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysInMonth = (y, m) => (m === 2 && isLeap(y) ? 29 : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]);

// ParseRfc3339: throws a Problem naming the offending part.
export function parseRfc3339(text) {
  const bad = (why) =>
    new Problem(`"${oneLine(text, 64)}" is not an RFC 3339 time (${why}); expected e.g. 2026-03-01T10:15:00Z`);
  let i = 0;
  const digits = (k) => {
    let v = 0;
    for (let j = 0; j < k; ++j) {
      const c = text.charCodeAt(i);
      if (!(c >= 0x30 && c <= 0x39)) return null;
      v = v * 10 + (c - 0x30);
      ++i;
    }
    return v;
  };
  const char = (c) => (text[i] === c ? (++i, true) : false);
  const charOf = (set) => (i < text.length && set.includes(text[i]) ? text[i++] : null);
  const atDigit = () => i < text.length && text[i] >= '0' && text[i] <= '9';

  let year, month, day, hour, minute, second;
  if ((year = digits(4)) === null || !char('-') || (month = digits(2)) === null || !char('-') || (day = digits(2)) === null) {
    throw bad('the date must be YYYY-MM-DD');
  }
  if (charOf('Tt ') === null) throw bad("no 'T' between date and time");
  if ((hour = digits(2)) === null || !char(':') || (minute = digits(2)) === null || !char(':') || (second = digits(2)) === null) {
    throw bad('the time must be hh:mm:ss');
  }
  if (year < 1) throw bad('year 0000 is out of range');
  if (month < 1 || month > 12) throw bad(`month ${month} is out of range`);
  if (day < 1 || day > daysInMonth(year, month)) throw bad(`day ${day} does not exist in that month`);
  if (hour > 23) throw bad(`hour ${hour} is out of range`);
  if (minute > 59) throw bad(`minute ${minute} is out of range`);
  if (second > 60) throw bad(`second ${second} is out of range`);
  if (second === 60) second = 59; // a leap second is held as the second before it

  let micros = 0;
  if (char('.') || char(',')) {
    if (!atDigit()) throw bad('no digits after the decimal point');
    let k = 0;
    while (atDigit()) {
      const digit = digits(1);
      if (k < 6) micros = micros * 10 + digit;
      ++k;
    }
    for (; k < 6; ++k) micros *= 10;
  }
  let offsetMinutes = 0;
  let zone;
  if (charOf('Zz') !== null) {
    // UTC
  } else if ((zone = charOf('+-')) !== null) {
    let oh, om;
    if ((oh = digits(2)) === null || !char(':') || (om = digits(2)) === null || oh > 23 || om > 59) {
      throw bad('the offset must be Z or +hh:mm / -hh:mm');
    }
    offsetMinutes = (oh * 60 + om) * (zone === '-' ? -1 : 1);
  } else {
    throw bad('no time zone: add Z for UTC or an offset such as +02:00');
  }
  if (i !== text.length) throw bad(`unexpected text at offset ${i}`);

  const days = daysFromCivil(year, month, day);
  const seconds = days * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  if (seconds < daysFromCivil(1, 1, 1) * 86400 || seconds >= daysFromCivil(10000, 1, 1) * 86400) {
    throw bad('in UTC it falls outside the years 0001-9999');
  }
  return BigInt(seconds) * 1000000n + BigInt(micros);
}

// FormatRfc3339: "2026-03-01T10:15:00Z", or six fractional digits when the
// time is not a whole second.
export function formatRfc3339(us) {
  let secs = us / 1000000n;
  let frac = us % 1000000n;
  if (frac < 0n) {
    frac += 1000000n;
    secs -= 1n;
  }
  let days = secs / 86400n;
  let rem = secs % 86400n;
  if (rem < 0n) {
    rem += 86400n;
    days -= 1n;
  }
  const [y, m, d] = civilFromDays(Number(days));
  const r = Number(rem);
  const p2 = (v) => String(v).padStart(2, '0');
  const base = `${String(y).padStart(4, '0')}-${p2(m)}-${p2(d)}T${p2(Math.trunc(r / 3600))}:${p2(Math.trunc(r / 60) % 60)}:${p2(r % 60)}`;
  return frac === 0n ? base + 'Z' : `${base}.${String(frac).padStart(6, '0')}Z`;
}

// ---------------------------------------------------------------------------
// RFC 6962 / RFC 9162 Merkle proofs (core/merkle.cc). Indexes and sizes are
// BigInt (any number or BigInt is accepted); hashes are Uint8Array, and a
// proof hash of the wrong length is a reported error, not a crash.

export const hashLeaf = (bytes) => sha256(new Uint8Array([0]), bytes);
export const hashChildren = (left, right) => sha256(new Uint8Array([1]), left, right);

const bitWidth = (x) => (x === 0n ? 0 : x.toString(2).length);
const popCount = (x) => [...x.toString(2)].filter((c) => c === '1').length;
function countrZero(x) {
  let k = 0;
  while (x > 0n && (x & 1n) === 0n) {
    x >>= 1n;
    ++k;
  }
  return k;
}

// RFC 9162 2.1.3.2: the number of proof hashes below the border, and on it (Decompose).
function decompose(index, size) {
  const inner = bitWidth(index ^ (size - 1n));
  return [inner, popCount(index >> BigInt(inner))];
}

async function chainInner(seed, proof, from, count, index) {
  for (let i = 0; i < count; ++i) {
    const h = proof[from + i];
    seed = (index >> BigInt(i)) & 1n ? await hashChildren(h, seed) : await hashChildren(seed, h);
  }
  return seed;
}

async function chainInnerRight(seed, proof, from, count, index) {
  for (let i = 0; i < count; ++i) {
    if ((index >> BigInt(i)) & 1n) seed = await hashChildren(proof[from + i], seed);
  }
  return seed;
}

async function chainBorderRight(seed, proof, from) {
  for (let i = from; i < proof.length; ++i) seed = await hashChildren(proof[i], seed);
  return seed;
}

function checkHashSizes(proof) {
  proof.forEach((h, i) => {
    if (h.length !== 32) throw new Problem(`proof hash ${i} is ${h.length} bytes, not 32`);
  });
}

function match(computed, expected, what) {
  if (expected.length === 32 && equalBytes(computed, expected)) return;
  throw new Problem(`the proof yields ${what} ${toHex(computed)} but the expected one is ${toHex(expected)}`);
}

// RootFromInclusionProof: throws a Problem for a malformed proof.
export async function rootFromInclusionProof(index, size, leafHash, proof) {
  index = BigInt(index);
  size = BigInt(size);
  if (index >= size) throw new Problem(`leaf index ${index} is not below the tree size ${size}`);
  if (leafHash.length !== 32) throw new Problem(`the leaf hash is ${leafHash.length} bytes, not 32`);
  const [inner, border] = decompose(index, size);
  if (proof.length !== inner + border) {
    throw new Problem(
      `an inclusion proof for leaf ${index} of ${size} has ${inner + border} hashes, this one has ${proof.length}`,
    );
  }
  checkHashSizes(proof);
  const h = await chainInner(leafHash, proof, 0, inner, index);
  return chainBorderRight(h, proof, inner);
}

async function checkInclusion(index, size, leafHash, proof, root) {
  match(await rootFromInclusionProof(index, size, leafHash, proof), root, 'root');
}

async function checkConsistency(size1, size2, proof, root1, root2) {
  size1 = BigInt(size1);
  size2 = BigInt(size2);
  if (size2 < size1) throw new Problem(`the new size ${size2} is below the old size ${size1}: the log shrank`);
  if (size1 === 0n) throw new Problem('a consistency proof from the empty tree proves nothing');
  if (size1 === size2) {
    if (proof.length !== 0) throw new Problem('the sizes are equal, so the proof must be empty');
    if (!equalBytes(root1, root2)) {
      throw new Problem(`the sizes are equal (${size1}) but the roots differ: ${toHex(root1)} and ${toHex(root2)}`);
    }
    return;
  }
  if (proof.length === 0) throw new Problem('the consistency proof is empty');
  checkHashSizes(proof);
  if (root1.length !== 32) throw new Problem('the old root is not 32 bytes');

  let [inner, border] = decompose(size1 - 1n, size2);
  const shift = countrZero(size1);
  inner -= shift; // shift < inner because size1 < size2

  // The proof starts with the root of the subtree of size 2^shift, unless
  // size1 is exactly that subtree, whose root is root1.
  let seed, start;
  if (size1 === 1n << BigInt(shift)) {
    seed = root1;
    start = 0;
  } else {
    seed = proof[0];
    start = 1;
  }
  if (proof.length !== start + inner + border) {
    throw new Problem(
      `a consistency proof from ${size1} to ${size2} has ${start + inner + border} hashes, this one has ${proof.length}`,
    );
  }
  const mask = (size1 - 1n) >> BigInt(shift);
  let hash1 = await chainInnerRight(seed, proof, start, inner, mask);
  hash1 = await chainBorderRight(hash1, proof, start + inner);
  match(hash1, root1, 'old root');
  let hash2 = await chainInner(seed, proof, start, inner, mask);
  hash2 = await chainBorderRight(hash2, proof, start + inner);
  match(hash2, root2, 'new root');
}

// Runs `fn`; {ok: true} or {ok: false, problem}. Never throws.
async function outcome(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    return { ok: false, problem: e instanceof Problem ? e.message : `internal error: ${e && e.message}` };
  }
}

// VerifyInclusion: whether `proof` (hashes as Uint8Array) shows the leaf
// with hash `leafHash` at `index` of the tree of `size` leaves with `root`.
// Returns {ok} or {ok: false, problem}.
export async function verifyInclusion(index, size, leafHash, proof, root) {
  const r = await outcome(() => checkInclusion(index, size, leafHash, proof, root));
  return r.ok ? { ok: true } : r;
}

// VerifyConsistency: whether the tree of size1 leaves with root1 is a prefix
// of the tree of size2 leaves with root2. {ok} or {ok: false, problem}.
export async function verifyConsistency(size1, size2, proof, root1, root2) {
  const r = await outcome(() => checkConsistency(size1, size2, proof, root1, root2));
  return r.ok ? { ok: true } : r;
}

// ---------------------------------------------------------------------------
// C2SP signed notes with Ed25519 keys (core/note.cc).
//
//   <text, ending in a newline>
//   <blank line>
//   — <key name> <base64(4-byte key id ‖ 64-byte Ed25519 signature)>
//   key id = first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)
//   vkey   = <name>+<key id, 8 lower-case hex digits>+<base64(0x01 ‖ public key)>

const SIGNATURE_PREFIX = '\u2014 '; // em dash and a space

// Ed25519Verify: anything but a 32-byte key and a 64-byte signature is
// refused before WebCrypto sees it.
export async function ed25519Verify(publicKey, message, signature) {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  let key;
  try {
    key = await subtle().importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  } catch (e) {
    if (e && e.name === 'NotSupportedError') {
      throw new Problem('this browser does not support Ed25519 signatures in WebCrypto, so signatures cannot be checked here');
    }
    if (e instanceof Problem) throw e;
    return false; // not a valid public key
  }
  try {
    return await subtle().verify({ name: 'Ed25519' }, key, signature, message);
  } catch {
    return false;
  }
}

function checkName(name) {
  if (name === '') throw new Problem('a key name must not be empty');
  for (const c of name) {
    if (c.charCodeAt(0) <= 0x20 || c === '+') {
      throw new Problem(`key name "${name}" has a space, control character or '+'`);
    }
  }
}

const hexId = (id) => id.toString(16).padStart(8, '0');

export async function keyId(name, publicKey) {
  return readU32(await sha256(utf8(name), new Uint8Array([0x0a, 0x01]), publicKey));
}

// VerifierKey::Parse: {name, keyId, publicKey, text}; throws a Problem.
export async function parseVerifierKey(vkey) {
  if (typeof vkey !== 'string') throw new Problem('the verifier key is not text');
  // Split(vkey, '+', 3): the base64 key may itself contain '+'.
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) {
    throw new Problem(`"${oneLine(vkey, 80)}" is not a verifier key; expected <name>+<key id>+<base64 key>`);
  }
  const name = vkey.slice(0, first);
  const idText = vkey.slice(first + 1, second);
  checkName(name);
  if (idText.length !== 8) throw new Problem(`key id "${idText}" is not 8 hex digits`);
  if (!/^[0-9a-f]{8}$/.test(idText)) throw new Problem(`key id "${idText}" is not lower-case hex`);
  let raw;
  try {
    raw = base64Decode(vkey.slice(second + 1));
  } catch (e) {
    throw new Problem(`verifier key: ${e.message}`);
  }
  if (raw.length !== 33 || raw[0] !== 0x01) {
    throw new Problem('verifier key is not an Ed25519 key (expected 0x01 and 32 bytes)');
  }
  const publicKey = raw.slice(1);
  const id = await keyId(name, publicKey);
  if (id !== parseInt(idText, 16)) {
    throw new Problem(`verifier key id ${idText} does not match its key (${hexId(id)})`);
  }
  return { name, keyId: id, publicKey, text: `${name}+${hexId(id)}+${base64Encode(raw)}` };
}

// VerifierKey::Open: the note's text when it carries a valid signature by
// `key` (signatures by other keys are ignored); throws a Problem.
export async function openNote(key, signedNote) {
  const split = signedNote.lastIndexOf('\n\n');
  if (split < 0) throw new Problem('the note has no blank line before its signatures');
  const text = signedNote.slice(0, split + 1);
  let sigs = signedNote.slice(split + 2);
  if (sigs === '' || !sigs.endsWith('\n')) throw new Problem("the note's signature lines do not end in a newline");
  sigs = sigs.slice(0, -1);
  const who = `${key.name}+${hexId(key.keyId)}`;
  let found = false;
  for (let line of sigs.split('\n')) {
    if (!line.startsWith(SIGNATURE_PREFIX)) {
      throw new Problem(`signature line "${oneLine(line, 60)}" does not start with an em dash`);
    }
    line = line.slice(SIGNATURE_PREFIX.length);
    const space = line.indexOf(' ');
    if (space < 0) throw new Problem('a signature line has no signature');
    if (line.slice(0, space) !== key.name) continue;
    let sig;
    try {
      sig = base64Decode(line.slice(space + 1));
    } catch (e) {
      throw new Problem(`signature by ${key.name}: ${e.message}`);
    }
    if (sig.length !== 4 + 64) throw new Problem(`the signature by ${key.name} is not 68 bytes`);
    if (readU32(sig) !== key.keyId) continue;
    found = true;
    if (!(await ed25519Verify(key.publicKey, utf8(text), sig.subarray(4)))) {
      throw new Problem(
        `the signature by ${who} does not match the note's text: the note was altered or signed by another key`,
      );
    }
  }
  if (!found) throw new Problem(`the note has no signature by ${who}`);
  return text;
}

// Checks `signedNote` against the verifier key text `vkey`:
// {ok: true, text} or {ok: false, problem}. Never throws.
export async function verifyNote(signedNote, vkey) {
  const r = await outcome(async () => openNote(await parseVerifierKey(vkey), String(signedNote)));
  return r.ok ? { ok: true, text: r.value } : r;
}

// A decimal u64 with no sign and no leading zero, or null.
function decimalU64(s) {
  if (!/^(0|[1-9][0-9]*)$/.test(s)) return null;
  const v = BigInt(s);
  return v <= U64_MAX ? v : null;
}

// ParseCheckpoint (C2SP tlog-checkpoint): {origin, size, root}; extension
// lines after the first three are allowed and ignored. Throws a Problem.
export function parseCheckpoint(body) {
  const lines = body.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') {
    throw new Problem('a checkpoint body is three lines (origin, size, root), each ending in a newline');
  }
  const origin = lines[0];
  if (origin === '') throw new Problem("the checkpoint's origin line is empty");
  const size = lines[1].length <= 20 ? decimalU64(lines[1]) : null;
  if (size === null) throw new Problem(`the checkpoint's size "${lines[1]}" is not a decimal number`);
  let root;
  try {
    root = base64Decode(lines[2]);
  } catch (e) {
    throw new Problem(`checkpoint root: ${e.message}`);
  }
  if (root.length !== 32) throw new Problem("the checkpoint's root is not 32 bytes");
  return { origin, size, root };
}

// ---------------------------------------------------------------------------
// The stream map (core/stream_map.cc): a sparse Merkle tree keyed by
// SHA-256(stream name) whose leaf holds the stream's event count, the
// position of its newest event and a running hash over its leaf hashes.
//
//   running   r_0 = 32 zero bytes; r_i = SHA-256(0x02 ‖ r_{i-1} ‖ leaf_i)
//   leaf      SHA-256(0x10 ‖ key ‖ count BE8 ‖ last_position BE8 ‖ running)
//   inner     SHA-256(0x11 ‖ left ‖ right)
//   empty     32 zero bytes

const EMPTY = new Uint8Array(32);
const MAP_NOTE_HEADER = 'custodian-stream-map/1';

export const mapKeyOf = (stream) => sha256(utf8(stream));
export const nextRunning = (running, leaf) => sha256(new Uint8Array([0x02]), running, leaf);
export const mapLeafHash = (key, s) => sha256(new Uint8Array([0x10]), key, u64(s.count), u64(s.lastPosition), s.running);
export const mapInnerHash = (left, right) => sha256(new Uint8Array([0x11]), left, right);

// Bit `depth` of the key, most significant first.
const bit = (key, depth) => (key[depth >> 3] >> (7 - (depth & 7))) & 1;

// RootFromProof. proof: {siblings (root's children down), end: 'stream' |
// 'empty' | 'other', summary: {count, lastPosition, running}, otherKey}.
export async function mapRootFromProof(stream, proof) {
  const key = await mapKeyOf(stream);
  const depth = proof.siblings.length;
  if (depth > 256) throw new Problem('the map proof has more than 256 steps');
  let h = EMPTY;
  if (proof.end === 'stream') {
    h = await mapLeafHash(key, proof.summary);
  } else if (proof.end === 'other') {
    if (equalBytes(proof.otherKey, key)) {
      throw new Problem("the map proof ends at another stream's leaf that has this stream's key");
    }
    for (let i = 0; i < depth; ++i) {
      if (bit(proof.otherKey, i) !== bit(key, i)) {
        throw new Problem(`the map proof ends at a leaf whose key leaves the stream's path at step ${i}`);
      }
    }
    h = await mapLeafHash(proof.otherKey, proof.summary);
  }
  for (let i = depth; i-- > 0; ) {
    h = bit(key, i) ? await mapInnerHash(proof.siblings[i], h) : await mapInnerHash(h, proof.siblings[i]);
  }
  return h;
}

// ParseMapNote:
//   custodian-stream-map/1
//   <origin>
//   <tree size>
//   <base64 log root>
//   <base64 map root>
export function parseMapNote(body) {
  const lines = [];
  while (body !== '') {
    const nl = body.indexOf('\n');
    if (nl < 0) throw new Problem("a map note's text must end in a newline");
    lines.push(body.slice(0, nl));
    body = body.slice(nl + 1);
  }
  if (lines.length !== 5 || lines[0] !== MAP_NOTE_HEADER) {
    throw new Problem(
      `not a stream map note (its first line must be ${MAP_NOTE_HEADER}, then origin, tree size, log root and map root)`,
    );
  }
  const origin = lines[1];
  if (origin === '') throw new Problem('the map note has no origin');
  const size = decimalU64(lines[2]);
  if (size === null) throw new Problem(`the map note's tree size is not a number: ${lines[2]}`);
  const hashLine = (line, what) => {
    try {
      const b = base64Decode(line);
      if (b.length === 32) return b;
    } catch {
      // reported below
    }
    throw new Problem(`the map note's ${what} is not a base64 SHA-256`);
  };
  return { origin, size, logRoot: hashLine(lines[3], 'log root'), mapRoot: hashLine(lines[4], 'map root') };
}

// ---------------------------------------------------------------------------
// Events: their JSON form (core/json.cc ParseEventJson) and canonical bytes
// (core/canonical.cc).

// EventId::Parse: the 8-4-4-4-12 form, either case, not the nil UUID.
// Returns its 16 bytes and its lower-case text (EventId::ToString).
function parseEventId(text) {
  const bad = (why) =>
    new Problem(
      `"${oneLine(text, 64)}" is not a UUID (${why}); expected 8-4-4-4-12 hex digits such as 7f0c1a9e-2b8d-4c1e-9a57-3d2f6b1c0e44`,
    );
  const length = utf8(text).length;
  if (length !== 36 || text.length !== 36) throw bad(`length ${length}, not 36`);
  const bytes = new Uint8Array(16);
  let out = 0;
  for (let i = 0; i < 36; ) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (text[i] !== '-') throw bad(`no dash at offset ${i}`);
      ++i;
      continue;
    }
    const pair = text.slice(i, i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) throw bad(`non-hex character near offset ${i}`);
    bytes[out++] = parseInt(pair, 16);
    i += 2;
  }
  if (bytes.every((b) => b === 0)) throw bad('the nil UUID is not an id');
  return { bytes, text: toHex(bytes).replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-') };
}

const fieldError = (name, message) => new Problem(`field '${name}': ${message}`);

function expectString(name, v) {
  if (v.t !== 's') throw fieldError(name, `expected a string, got ${kindName(v)}`);
  return v.v;
}

// ParseEventJson (RecordedBy::kKeep): the producer's fields of one event and
// recorded_by, the token that appended it (in its leaf: canonical format 2);
// position, version and recorded_at are skipped (the bundle verifier reads
// them itself). Checks
// in the order the members are written, with the C++'s messages.
function parseEvent(obj) {
  const e = { schema: 1, source: '', correlationId: '', causationId: '', data: '{}', recordedBy: '' };
  const seen = new Set();
  obj.keys.forEach((k, j) => {
    const v = obj.vals[j];
    switch (k) {
      case 'id': {
        const s = expectString(k, v);
        try {
          e.id = parseEventId(s);
        } catch (err) {
          throw new Problem(`field 'id': ${err.message}`);
        }
        break;
      }
      case 'stream':
        e.stream = expectString(k, v);
        break;
      case 'type':
        e.type = expectString(k, v);
        break;
      case 'actor':
        e.actor = expectString(k, v);
        break;
      case 'schema': {
        // A whole number in JSON's integer form (Boost: int64 or uint64), 1 to 2^32-1.
        const whole = isInteger(v) && BigInt(v.raw) >= -(1n << 63n) && BigInt(v.raw) <= U64_MAX;
        if (!whole) throw fieldError(k, `expected a whole number, got ${kindName(v)}`);
        const n = BigInt(v.raw);
        if (n < 1n || n > 0xffffffffn) throw fieldError(k, `must be between 1 and 4294967295, got ${v.raw}`);
        e.schema = Number(n);
        break;
      }
      case 'occurred_at': {
        const s = expectString(k, v);
        try {
          e.occurredAt = parseRfc3339(s);
        } catch (err) {
          throw new Problem(`field 'occurred_at': ${err.message}`);
        }
        break;
      }
      case 'source':
      case 'correlation_id':
      case 'causation_id': {
        const name = { source: 'source', correlation_id: 'correlationId', causation_id: 'causationId' }[k];
        if (v.t !== 'null') e[name] = expectString(k, v);
        break;
      }
      case 'data':
        if (v.t !== 'o') throw fieldError(k, `expected a JSON object, got ${kindName(v)}`);
        // The payload as hashed: its compact text, numbers as written.
        e.data = compactJson(v);
        break;
      case 'personal':
        // Only its form is checked: the leaf commits to the hash of the
        // sealed bytes, which the bundle gives as personal_sha256.
        if (v.t === 'null' || (v.t === 'o' && v.keys.length === 0)) break;
        if (v.t !== 'o') throw fieldError(k, `expected a JSON object, got ${kindName(v)}`);
        if (v.map.has('sealed_for') && v.map.size === 1 && v.map.get('sealed_for').t !== 's') {
          throw fieldError('personal.sealed_for', 'expected a subject id');
        }
        break;
      case 'recorded_by': {
        // Assigned by the log (the token that appended the event), and in its leaf.
        const s = expectString(k, v);
        if (s === '') throw fieldError(k, 'expected a token id');
        e.recordedBy = s;
        break;
      }
      case 'position':
      case 'version':
      case 'recorded_at':
        break; // assigned by the log
      default:
        throw fieldError(
          k,
          'is not a field of an event; the fields are id, stream, type, schema, actor, occurred_at, source, correlation_id, causation_id, data, personal',
        );
    }
    seen.add(k);
  });
  const missing = (name, what) => new Problem(`field '${name}' is missing; ${what}`);
  if (!seen.has('id')) throw missing('id', 'every event needs a UUID chosen by its producer');
  if (!seen.has('stream')) throw missing('stream', 'expected <category>-<id> such as customer-42');
  if (!seen.has('type')) throw missing('type', 'expected <noun>.<verb> such as interaction.logged');
  if (!seen.has('actor')) {
    throw missing('actor', 'every event names who caused it: staff-<id>, system or system:<name>');
  }
  if (!seen.has('occurred_at')) throw missing('occurred_at', 'expected an RFC 3339 time such as 2026-03-01T10:15:00Z');
  return e;
}

function putString(s) {
  const b = utf8(s);
  return [u32(b.length), b];
}

// CanonicalContent(e, personal_hash): id, stream, type, schema, actor,
// occurred_at, source, correlation_id, causation_id, SHA-256(data), and the
// personal section's hash as the bundle gives it.
export async function canonicalContent(e, personalHash) {
  return concat([
    e.id.bytes,
    ...putString(e.stream),
    ...putString(e.type),
    u32(e.schema),
    ...putString(e.actor),
    u64(e.occurredAt),
    ...putString(e.source),
    ...putString(e.correlationId),
    ...putString(e.causationId),
    await sha256(utf8(e.data)),
    personalHash,
  ]);
}

// LeafHashOfContent: SHA-256(0x00 ‖ kCanonicalFormat 0x01 ‖ position ‖
// version ‖ recorded_at ‖ content), the RFC 6962 leaf of the event; for an
// event with a recorded_by, SHA-256(0x00 ‖ 0x02 ‖ position ‖ version ‖
// recorded_at ‖ recorded_by ‖ content) (canonical format 2).
export function leafHashOfContent(position, version, recordedAt, recordedBy, content) {
  const logFields = [u64(position), u64(version), u64(recordedAt)];
  if (recordedBy === '') return sha256(new Uint8Array([0x00, 0x01]), ...logFields, content);
  return sha256(new Uint8Array([0x00, 0x02]), ...logFields, ...putString(recordedBy), content);
}

// The leaf hash of one event in its JSON form with position, version and
// recorded_at (as a bundle holds it), given the personal section's hash
// (32 bytes; default: the empty section's, SHA-256 of thirteen zero bytes).
// Throws a Problem-message Error for an event that does not parse.
export async function leafHashOfEventJson(text, personalHash = undefined) {
  const { root } = parseJson(text);
  if (root.t !== 'o') throw new Error('an event must be a JSON object');
  const e = parseEvent(root);
  const position = toU64(field(root, 'position'));
  const version = toU64(field(root, 'version'));
  if (position === null || version === null) throw new Error('the event lacks its position or version');
  const recordedAt = parseRfc3339(stringField(root, 'recorded_at'));
  const personal = personalHash ?? (await sha256(new Uint8Array(13)));
  return leafHashOfContent(position, version, recordedAt, e.recordedBy, await canonicalContent(e, personal));
}

// ---------------------------------------------------------------------------
// The bundle (core/bundle.cc).

// The hash of no personal part (core/canonical.cc, PersonalHash of an empty
// section: scheme 0 and three empty strings, 13 zero bytes).
const NO_PERSONAL_HEX = 'dd46c3eebb1884ff3b5258c0a2fc9398e560a29e0780d4b53869b6254aa46a96';
// A stream name the log takes (core/validation.cc, ValidateStreamName).
function validStreamName(s) {
  if (s.length === 0 || utf8(s).length > 200) return false;
  return s === 'alerts' || s === 'system' || s === 'tokens' || /^[a-z][a-z0-9_]*-[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s);
}

const FORMAT_V3 = 'custodian-evidence/3';
const FORMAT_V2 = 'custodian-evidence/2';
const FORMAT_V1 = 'custodian-evidence/1';

// HashField: a base64 SHA-256, or null.
function hashField(v) {
  if (!v || v.t !== 's') return null;
  try {
    const b = base64Decode(v.v);
    return b.length === 32 ? b : null;
  } catch {
    return null;
  }
}

// BundleSummary: the summary a bundle with these facts states, word for word.
export function bundleSummary(f) {
  const root = base64Encode(f.root);
  const check = `Check it offline with: custodian verify-bundle FILE --key '${f.verifierKey}' — using the key published by the company, not the one inside the file.`;
  if (f.completeness && f.events === 0n) {
    return (
      `Evidence that ${f.stream} has no events in the log ${f.origin} at size ${f.treeSize} (root ${root}): the ` +
      `stream map signed with that checkpoint, by the key ${f.verifierKey}, proves its absence. ${check}`
    );
  }
  let complete = '';
  if (f.completeness) {
    const withheld =
      f.withheld === 0n ? '' : ` (${f.withheld} outside these versions are accounted for by their hashes only)`;
    complete = ` The stream map signed with the checkpoint shows that ${f.stream} has ${f.streamEvents} events at that size, so none is left out${withheld}.`;
  }
  return (
    `Evidence bundle for ${f.stream}: ${f.events} events (stream versions ${f.firstVersion} to ${f.lastVersion}, ` +
    `log positions ${f.firstPosition} to ${f.lastPosition}), which occurred between ${formatRfc3339(f.from)} and ` +
    `${formatRfc3339(f.to)}. Each event carries a Merkle inclusion proof against the signed checkpoint of the log ` +
    `${f.origin} at size ${f.treeSize} (root ${root}), signed with the key ${f.verifierKey}.${complete} ${check}`
  );
}

// FirstDifference: where two texts first differ (in bytes, as the C++ counts).
function firstDifference(found, expected) {
  const a = utf8(found);
  const b = utf8(expected);
  let at = 0;
  while (at < a.length && at < b.length && a[at] === b[at]) ++at;
  const dec = new TextDecoder();
  return (
    `from character ${at + 1} it says "${dec.decode(a.subarray(at, at + 60))}" where the verified contents give ` +
    `"${dec.decode(b.subarray(at, at + 60))}"`
  );
}

// CheckCompleteness: a format 3 bundle's "completeness" part against its
// checkpoint and the leaf hashes of the events it holds (in order). Throws a
// Problem; on success fills facts.streamEvents and facts.withheld.
async function checkCompleteness(b, key, cp, leaves, facts) {
  const c = field(b, 'completeness');
  if (!c || c.t !== 'o') throw new Problem('the bundle has no "completeness" object');
  let note;
  try {
    note = parseMapNote(await openNote(key, stringField(c, 'map_note')));
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    throw new Problem(`the stream map note: ${e.message}`);
  }
  if (note.origin !== cp.origin || note.size !== cp.size || !equalBytes(note.logRoot, cp.root)) {
    throw new Problem(
      `the stream map note is for the log ${note.origin} at size ${note.size}, not the bundle's checkpoint (${cp.origin} at size ${cp.size})`,
    );
  }
  const proof = { siblings: [], end: 'empty', summary: null, otherKey: null };
  const siblings = field(c, 'map_proof');
  if (!siblings || siblings.t !== 'a') throw new Problem('the completeness part has no map_proof');
  for (const h of siblings.items) {
    const sibling = hashField(h);
    if (!sibling) throw new Problem('a map_proof hash is not a base64 SHA-256');
    proof.siblings.push(sibling);
  }
  const endsAt = stringField(c, 'ends_at');
  if (!['stream', 'empty', 'other'].includes(endsAt)) {
    throw new Problem(`the completeness part's ends_at is "${endsAt}", not stream, empty or other`);
  }
  proof.end = endsAt;
  if (proof.end !== 'empty') {
    const l = field(c, 'leaf');
    if (!l || l.t !== 'o') throw new Problem('the completeness part has no leaf');
    const count = toU64(field(l, 'events'));
    const lastPosition = toU64(field(l, 'last_position'));
    const running = hashField(field(l, 'running_sha256'));
    if (count === null || lastPosition === null || !running) {
      throw new Problem('the map leaf lacks events, last_position or running_sha256');
    }
    proof.summary = { count, lastPosition, running };
    if (proof.end === 'other') {
      proof.otherKey = hashField(field(l, 'key_sha256'));
      if (!proof.otherKey) throw new Problem('the map leaf of another stream lacks its key_sha256');
    }
  }
  let root;
  try {
    root = await mapRootFromProof(facts.stream, proof);
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    throw new Problem(`the map proof: ${e.message}`);
  }
  if (!equalBytes(root, note.mapRoot)) {
    throw new Problem(
      `the map proof for ${facts.stream} leads to root ${toHex(root)}, not the signed map root ${toHex(note.mapRoot)}: the proof or the leaf it shows was altered`,
    );
  }
  const atSize = ` in the log at size ${cp.size}`;
  if (proof.end !== 'stream') {
    if (leaves.length !== 0) {
      throw new Problem(
        `the signed stream map says ${facts.stream} has no events${atSize}, yet the bundle holds ${leaves.length}`,
      );
    }
    facts.streamEvents = 0n;
    facts.withheld = 0n;
    return;
  }
  const inLog = proof.summary.count;
  if (leaves.length === 0) {
    throw new Problem(
      `the bundle holds no events, but the signed stream map says ${facts.stream} has ${inLog} events${atSize}`,
    );
  }
  // The running hash, from before the first event held, through the held
  // events and the later ones withheld.
  let running = EMPTY;
  if (facts.firstVersion > 0n) {
    const before = hashField(field(c, 'running_before_sha256'));
    if (!before) {
      throw new Problem(
        `the bundle starts at version ${facts.firstVersion} but does not account for the stream's earlier events (it gives no running_before_sha256): events are missing from the start`,
      );
    }
    running = before;
  }
  for (const leaf of leaves) running = await nextRunning(running, leaf);
  let later = 0n;
  const l = field(c, 'later_leaf_hashes');
  if (l !== undefined) {
    if (l.t !== 'a') throw new Problem('later_leaf_hashes is not an array');
    for (const h of l.items) {
      const leaf = hashField(h);
      if (!leaf) throw new Problem('a later_leaf_hashes entry is not a base64 SHA-256');
      running = await nextRunning(running, leaf);
      ++later;
    }
  }
  const accounted = facts.firstVersion + BigInt(leaves.length) + later;
  if (accounted < inLog) {
    throw new Problem(
      `incomplete: the signed stream map says ${facts.stream} has ${inLog} events${atSize}, the newest at position ${proof.summary.lastPosition}, but the bundle accounts for ${accounted}: ${inLog - accounted} event(s) after version ${accounted - 1n} are missing`,
    );
  }
  if (accounted > inLog) {
    throw new Problem(
      `the bundle accounts for ${accounted} events of ${facts.stream} but the signed stream map says it has ${inLog}${atSize}`,
    );
  }
  if (later === 0n && facts.lastPosition !== proof.summary.lastPosition) {
    throw new Problem(
      `the stream's newest event${atSize} is at position ${proof.summary.lastPosition}, but the bundle's last is at position ${facts.lastPosition}`,
    );
  }
  if (!equalBytes(running, proof.summary.running)) {
    throw new Problem(
      `the events of ${facts.stream} the bundle accounts for do not hash to the stream's signed running hash: an event was swapped for another, or a withheld hash (running_before_sha256, later_leaf_hashes) is wrong`,
    );
  }
  facts.streamEvents = inLog;
  facts.withheld = inLog - BigInt(leaves.length);
}

// The synchronous checks of one event (VerifyBundle's loop up to the leaf
// hash): a job {at, e, position, version, recordedAt, personalHash, proof}
// for the hashing, or a Problem. `state.previousVersion`: the version of the
// event before, when it could be read (null: do not check the next one).
function readEvent(item, n, stream, state) {
  const where = `event #${n}`;
  const previous = state.previousVersion;
  state.previousVersion = null;
  if (item.t !== 'o') throw new Problem(`${where} is not a JSON object`);
  const ev = field(item, 'event');
  if (!ev || ev.t !== 'o') throw new Problem(`${where} has no "event" object`);
  let e;
  try {
    e = parseEvent(ev);
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    throw new Problem(`${where}: ${err.message}`);
  }
  const positionNode = field(ev, 'position');
  const versionNode = field(ev, 'version');
  if (!positionNode || positionNode.t !== 'n' || !versionNode || versionNode.t !== 'n') {
    throw new Problem(`${where} lacks its position or version`);
  }
  const position = toU64(positionNode);
  const version = toU64(versionNode);
  if (position === null || version === null) {
    // The C++ aborts here (an uncaught exception); this says why instead.
    throw new Problem(`${where}: its position or version is not a whole number of 0 or more`);
  }
  let recordedAt;
  try {
    recordedAt = parseRfc3339(stringField(ev, 'recorded_at'));
  } catch (err) {
    throw new Problem(`${where}: recorded_at: ${err.message}`);
  }
  const at = `event at position ${position} (${e.id.text})`;
  if (e.stream !== stream) {
    state.previousVersion = previous; // another stream's event: the next one follows the one before it
    throw new Problem(`${at} belongs to ${e.stream}, not ${stream}`);
  }
  state.previousVersion = version; // the next event follows this one, whatever else is wrong with it
  if (previous !== null && version !== previous + 1n) {
    throw new Problem(
      `${at} is version ${version} after version ${previous}: events of the stream are missing from the bundle`,
    );
  }
  let personalHash;
  try {
    personalHash = base64Decode(stringField(item, 'personal_sha256'));
  } catch {
    personalHash = null;
  }
  if (!personalHash || personalHash.length !== 32) throw new Problem(`${at}: personal_sha256 is not a base64 SHA-256`);
  // The sealed bytes are not in the bundle, only their hash: what it shows of
  // the part is checked as far as that allows (VerifyBundle). A part is shown
  // exactly when the log holds one, and one shown as sealed names the person
  // the event's data makes it about.
  const shownNode = field(ev, 'personal');
  const shows = !!shownNode && shownNode.t === 'o' && shownNode.keys.length > 0;
  if (shows !== (toHex(personalHash) !== NO_PERSONAL_HEX)) {
    throw new Problem(
      shows
        ? `${at} shows a personal part, but the log holds none for it`
        : `${at} has a sealed personal part in the log that the bundle does not show`,
    );
  }
  let personalShown = false;
  if (shows) {
    const dataNode = field(ev, 'data');
    const contact = dataNode && dataNode.t === 'o' ? field(dataNode, 'contact_id') : null;
    const subject = contact && contact.t === 's' ? `${e.stream}/contact-${contact.v}` : e.stream;
    // Sealed: "sealed_for" and at most an "unavailable" reason, nothing else;
    // any other member is text shown opened, the maker's word.
    const sealedFor = field(shownNode, 'sealed_for');
    const unavailable = field(shownNode, 'unavailable');
    const sealed = !!sealedFor && shownNode.keys.length === (unavailable ? 2 : 1) && (!unavailable || unavailable.t === 's');
    if (sealedFor && (sealedFor.t !== 's' || sealedFor.v !== subject)) {
      throw new Problem(
        `${at}: its personal part is shown as sealed for ${sealedFor.t === 's' ? JSON.stringify(sealedFor.v) : 'something else'}, but the event's data makes it ${subject}'s`,
      );
    }
    personalShown = !sealed;
  }
  const proofNode = field(item, 'inclusion_proof');
  if (!proofNode || proofNode.t !== 'a') throw new Problem(`${at} has no inclusion proof`);
  const proof = proofNode.items.map((h) => {
    try {
      if (h.t !== 's') throw new Problem('not a string');
      return base64Decode(h.v);
    } catch {
      throw new Problem(`${at}: a proof hash is not base64`);
    }
  });
  return { at, e, position, version, recordedAt, personalHash, proof, personalShown };
}

// The leaf hash of a read event, and the problem with its inclusion proof (or null).
async function hashEvent(job, checkpoint) {
  const { e, position, version, recordedAt, personalHash, proof } = job;
  const content = await canonicalContent(e, personalHash);
  const leaf = await leafHashOfContent(position, version, recordedAt, e.recordedBy, content);
  try {
    await checkInclusion(position, checkpoint.size, leaf, proof, checkpoint.root);
    return { leaf, problem: null };
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    return {
      leaf,
      problem: `${job.at} is not in the signed log as shown (its leaf hash is ${toHex(leaf)}): ${err.message}; the event was altered, or the proof is not for this checkpoint`,
    };
  }
}

// As verify-bundle (service/evidence.cc, kMaxBundleBytes): far past any
// customer's bundle, short of what parsing it would ask of the browser.
const MAX_BUNDLE_BYTES = 256 * 1024 * 1024;
const tooLarge = () =>
  new Problem('the file holds more than 256 MiB, more than any evidence bundle could be');

function textOf(input) {
  if (typeof input === 'string') {
    // A string's UTF-8 takes at least one byte a code unit.
    if (input.length > MAX_BUNDLE_BYTES) throw tooLarge();
    return input;
  }
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
    const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    if (bytes.length > MAX_BUNDLE_BYTES) throw tooLarge();
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new Problem('the file is not a JSON evidence bundle (the text is not valid UTF-8)');
    }
  }
  throw new Problem('the file is not a JSON evidence bundle (no text was given)');
}

// Verifies an evidence bundle with the verifier key the auditor trusts.
//
//   bundleText  the file: a string, or its bytes (ArrayBuffer / Uint8Array)
//   key         the verifier key, "<origin>+<key id>+<base64 key>"
//
// Returns {ok, problems, events, stream, size, root, summary, ...}: ok when
// every check passed; problems, the failures (problems[0] is what
// `custodian verify-bundle` reports); events, how many events verified;
// size and root, the signed checkpoint's; summary, the verdict in words.
// Also: format, from, to, firstVersion, lastVersion, verifierKey, complete,
// completeness, streamEvents, withheld, unchecked, and statement (the
// bundle's own summary, once it has been checked word for word).
// Never throws.
export async function verifyBundle(bundleText, key) {
  const verdict = {
    ok: false,
    problems: [],
    events: 0,
    stream: '',
    size: 0,
    root: '',
    summary: '',
    format: '',
    from: '',
    to: '',
    firstVersion: 0,
    lastVersion: 0,
    verifierKey: '',
    complete: false,
    completeness: '',
    streamEvents: 0,
    withheld: 0,
    unchecked: [],
    personalShown: 0,
    statement: '',
  };
  try {
    await check(bundleText, key, verdict);
  } catch (e) {
    verdict.problems.push(e instanceof Problem ? e.message : `internal error in the verifier: ${e && e.message}`);
  }
  verdict.ok = verdict.problems.length === 0;
  verdict.summary = describe(verdict);
  return verdict;
}

// What the CLI prints (tools/cli_evidence.cc, RunVerifyBundle).
function describe(v) {
  if (!v.ok) {
    const more = v.problems.length > 1 ? ` (and ${v.problems.length - 1} more problem(s))` : '';
    return `BUNDLE VERIFICATION FAILED: ${v.problems[0]}${more}`;
  }
  const lines = [
    v.events === 0
      ? `bundle verified: the log signed at size ${v.size} (root ${v.root}) by ${v.verifierKey} holds no events of ${v.stream}`
      : `bundle verified: ${v.events} events of ${v.stream} (versions ${v.firstVersion} to ${v.lastVersion}, occurred ${v.from} to ${v.to}) are in the log signed at size ${v.size} (root ${v.root}) by ${v.verifierKey}`,
    `${v.complete ? '' : 'note: completeness '}${v.completeness}`,
  ];
  if (v.unchecked.length) {
    lines.push(
      `note: a ${v.format} bundle: its ${JSON.stringify(v.unchecked)} are not checked (written by an older Custodian); only its events, proofs and checkpoint are`,
    );
  }
  if (v.personalShown > 0) {
    lines.push(
      `note: ${v.personalShown} events show personal data opened (or as erased) by whoever made the bundle; the proof covers their sealed form, not the text shown`,
    );
  }
  return lines.join('\n');
}

// VerifyBundle, step by step. Throws a Problem for a failure that stops the
// check; per-event failures are pushed to verdict.problems.
async function check(bundleText, keyText, verdict) {
  const text = textOf(bundleText);
  let parsed;
  try {
    parsed = parseJson(text);
  } catch (e) {
    if (!(e instanceof JsonError)) throw e;
    const at = utf8(text.slice(0, e.offset)).length;
    throw new Problem(`the file is not a JSON evidence bundle (invalid JSON at byte ${at}: ${e.message})`);
  }
  const b = parsed.root;
  if (b.t !== 'o') throw new Problem('the file is not a JSON evidence bundle (it is not a JSON object)');
  verdict.format = stringField(b, 'format');
  const v1 = verdict.format === FORMAT_V1;
  const v3 = verdict.format === FORMAT_V3;
  if (!v3 && !v1 && verdict.format !== FORMAT_V2) {
    throw new Problem(
      `the file is not a Custodian evidence bundle (format "${verdict.format}", expected ${FORMAT_V3})`,
    );
  }
  verdict.stream = stringField(b, 'stream');
  // A name no log takes could only pass as another's: "customer-42" and an
  // invisible character, in a proof that the stream has no events.
  if (!validStreamName(verdict.stream)) {
    throw new Problem(`the bundle's stream ${JSON.stringify(verdict.stream)} is not a stream name`);
  }

  // The key, and the checkpoint it signed. Only the pasted key is trusted:
  // without one there is nothing to check the bundle against.
  const pasted = typeof keyText === 'string' ? keyText.trim() : '';
  if (pasted === '') {
    throw new Problem(
      'no verifier key was given: paste the key the company published (custodian key show); the key inside the bundle is not trusted',
    );
  }
  let key;
  try {
    key = await parseVerifierKey(pasted);
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    throw new Problem(`the key is malformed: verifier key: ${e.message}`);
  }
  verdict.verifierKey = key.text;
  let checkpoint;
  try {
    checkpoint = parseCheckpoint(await openNote(key, stringField(b, 'checkpoint')));
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    throw new Problem(`the checkpoint: ${e.message}`);
  }
  if (checkpoint.origin !== key.name) {
    throw new Problem(`the checkpoint's origin ${checkpoint.origin} is not the key's name ${key.name}`);
  }
  verdict.size = Number(checkpoint.size);
  verdict.root = base64Encode(checkpoint.root);

  const events = field(b, 'events');
  if (!events || events.t !== 'a' || (events.items.length === 0 && !v3)) {
    throw new Problem('the bundle holds no events');
  }
  // Each event's data is hashed as written: the whole file must read back as
  // compact JSON (CompactJson), which refuses a key given twice.
  if (parsed.duplicate !== null) {
    throw new Problem(
      `the file is not a JSON evidence bundle (key '${parsed.duplicate}' is given twice; a key may appear once in an object)`,
    );
  }

  // The events: first every check that needs no hashing, in order; then the
  // leaf hashes and inclusion proofs, all at once (WebCrypto is asynchronous).
  const state = { previousVersion: null };
  const jobs = events.items.map((item, j) => {
    try {
      return readEvent(item, j + 1, verdict.stream, state);
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      return { problem: e.message };
    }
  });
  const hashed = await Promise.all(jobs.map((job) => (job.problem ? null : hashEvent(job, checkpoint))));
  const facts = {
    stream: verdict.stream,
    events: 0n,
    firstVersion: 0n,
    lastVersion: 0n,
    firstPosition: 0n,
    lastPosition: 0n,
    from: 0n,
    to: 0n,
    origin: checkpoint.origin,
    treeSize: checkpoint.size,
    root: checkpoint.root,
    verifierKey: key.text,
    completeness: false,
    streamEvents: 0n,
    withheld: 0n,
  };
  const leaves = [];
  jobs.forEach((job, j) => {
    const problem = job.problem ?? hashed[j].problem;
    if (problem) {
      verdict.problems.push(problem);
      return;
    }
    if (leaves.length === 0) {
      facts.firstVersion = job.version;
      facts.firstPosition = job.position;
      facts.from = facts.to = job.e.occurredAt;
    }
    facts.lastVersion = job.version;
    facts.lastPosition = job.position;
    if (job.e.occurredAt < facts.from) facts.from = job.e.occurredAt;
    if (job.e.occurredAt > facts.to) facts.to = job.e.occurredAt;
    if (job.personalShown) verdict.personalShown += 1;
    leaves.push(hashed[j].leaf);
  });
  verdict.events = leaves.length;
  if (verdict.problems.length) return; // what follows builds on every event
  facts.events = BigInt(leaves.length);
  verdict.firstVersion = Number(facts.firstVersion);

  if (v3) {
    facts.completeness = true;
    await checkCompleteness(b, key, checkpoint, leaves, facts);
    verdict.complete = true;
    verdict.streamEvents = Number(facts.streamEvents);
    verdict.withheld = Number(facts.withheld);
    verdict.completeness =
      facts.streamEvents === 0n
        ? `complete: the signed stream map proves that ${verdict.stream} has no events in the log at size ${checkpoint.size}`
        : `complete: the signed stream map shows ${verdict.stream} has ${facts.streamEvents} events in the log at size ${checkpoint.size} and the bundle accounts for all of them` +
          (facts.withheld === 0n ? '' : ` (${facts.withheld} by their hashes only)`);
  } else {
    verdict.completeness = `not proven: a ${verdict.format} bundle proves that its events are in the log, not that the stream has no others (bundles made since 2026-12-05 prove that too)`;
  }
  if (leaves.length === 0) {
    // A proof of absence: nothing else to derive from events.
    for (const name of ['from', 'to']) {
      const stated = field(b, name);
      if (!stated || stated.t !== 'null') throw new Problem(`the bundle's "${name}" must be null: it holds no events`);
    }
  } else {
    verdict.lastVersion = Number(facts.lastVersion);
    verdict.from = formatRfc3339(facts.from);
    verdict.to = formatRfc3339(facts.to);
  }
  if (v1) {
    // Format 1 stated the window asked for, which the events cannot confirm.
    const from = field(b, 'from');
    if ((!from || from.t === 'null') && facts.firstVersion !== 0n) {
      throw new Problem(
        `the bundle claims the whole of ${verdict.stream} but starts at version ${facts.firstVersion}: events are missing from the start`,
      );
    }
    verdict.unchecked = ['summary', 'from', 'to'];
    return;
  }

  // What the file states besides the events, derived again from them.
  if (leaves.length > 0) {
    for (const [name, derived] of [
      ['from', facts.from],
      ['to', facts.to],
    ]) {
      const stated = field(b, name);
      let t = null;
      try {
        if (stated && stated.t === 's') t = parseRfc3339(stated.v);
      } catch {
        t = null;
      }
      if (t === null || t !== derived) {
        const shown = stated ? compactJson(stated) : 'missing';
        throw new Problem(
          `the bundle's "${name}" is ${shown} but its events occurred ${name === 'from' ? 'from ' : 'up to '}${formatRfc3339(derived)} (the ${name === 'from' ? 'earliest' : 'latest'} occurred_at of its verified events): the field was altered`,
        );
      }
    }
  }
  const expected = bundleSummary(facts);
  const summary = field(b, 'summary');
  if (!summary || summary.t !== 's' || summary.v !== expected) {
    throw new Problem(
      `the bundle's "summary" does not say what its verified events and checkpoint say: ${
        !summary || summary.t !== 's' ? 'it is missing or not a string' : firstDifference(summary.v, expected)
      }`,
    );
  }
  verdict.statement = expected;
}
