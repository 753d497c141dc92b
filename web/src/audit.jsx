// The audit page: whether the log verifies, its verifier key and signed
// checkpoints; and two checks that run in this browser against a verifier key
// the auditor pastes (the one they were given, not the one this server shows):
// a checkpoint they kept earlier is a prefix of the log's newest (an RFC 9162
// consistency proof), and an evidence bundle verifies (verify.js, the same
// checks as `custodian verify-bundle`).
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { Loaded, PagedTable, Section, useApi } from './ui.jsx';
import { base64Decode, parseCheckpoint, verifyBundle, verifyConsistency, verifyNote } from './verify.js';

// Whether the checkpoint `keptNote` (a signed note the auditor kept) is a
// prefix of the newest checkpoint the log signed, both signed by `key`:
// {ok, text} or {ok: false, problem}.
export async function checkKeptCheckpoint(keptNote, key) {
  const fail = (problem) => ({ ok: false, problem });
  const note = keptNote.replace(/\r\n/g, '\n').replace(/\n*$/, '\n');
  const kept = await verifyNote(note, key);
  if (!kept.ok) return fail(`the kept checkpoint is not signed by the key you trust: ${kept.problem}`);
  let old, now;
  try {
    old = parseCheckpoint(kept.text);
  } catch (e) {
    return fail(`the kept checkpoint: ${e.message}`);
  }
  const rows = await api('/v1/checkpoints');
  if (!rows.length) return fail('the log has signed no checkpoint yet');
  const newest = await verifyNote(rows[rows.length - 1].checkpoint, key);
  if (!newest.ok) return fail(`the log's newest checkpoint is not signed by the key you trust: ${newest.problem}`);
  try {
    now = parseCheckpoint(newest.text);
  } catch (e) {
    return fail(`the log's newest checkpoint: ${e.message}`);
  }
  if (old.origin !== now.origin) return fail(`the kept checkpoint is of the log "${old.origin}", this log is "${now.origin}"`);
  if (old.size > now.size) {
    return fail(`the kept checkpoint signs ${old.size} events, the log's newest only ${now.size}: the log lost events after you kept it`);
  }
  let proof = [];
  if (old.size > 0n && old.size < now.size) {
    const p = await api(`/v1/proofs/consistency?from=${old.size}&to=${now.size}`);
    proof = p.proof.map(base64Decode);
  }
  if (old.size > 0n) {
    const r = await verifyConsistency(old.size, now.size, proof, old.root, now.root);
    if (!r.ok) return fail(`the log's newest checkpoint does not extend the one you kept: ${r.problem}`);
  }
  return {
    ok: true,
    text: `The log you kept at ${old.size} events is unchanged inside the log signed now at ${now.size} events: nothing was rewritten or removed, only added.`,
  };
}

// A check run on demand: {busy, result, run(...)}; a check that throws is a failed verdict.
function useCheck(check) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const run = async (...args) => {
    setBusy(true);
    setResult(null);
    try {
      setResult(await check(...args));
    } catch (err) {
      setResult({ ok: false, problem: err.message });
    } finally {
      setBusy(false);
    }
  };
  return { busy, result, run, clear: () => setResult(null) };
}

function Verdict({ result, testid }) {
  if (!result) return null;
  if (result.ok) return <p class="ok" data-verdict={testid} data-ok="true" role="status">✔ {result.text}</p>;
  return (
    <div class="problem" data-verdict={testid} data-ok="false" role="alert">
      <p>✘ {result.problem}</p>
      {result.more?.length > 0 && (
        <ul>
          {result.more.map((m, i) => <li key={i}>{m}</li>)}
        </ul>
      )}
    </div>
  );
}

function TrustedKey({ value, onInput, serverKey }) {
  return (
    <div class="trusted-key">
      <label>
        The verifier key you trust
        <textarea name="trusted_key" rows="2" spellcheck={false} value={value} onInput={(e) => onInput(e.currentTarget.value.trim())}
          placeholder="origin+keyid+base64 key, as you were given it" />
      </label>
      {serverKey && !value && (
        <p class="muted">
          Use the key you were given, not one this server shows you: a server that rewrote its log could show its own.{' '}
          <button type="button" class="link" onClick={() => onInput(serverKey)}>Use the key shown above anyway</button>
        </p>
      )}
    </div>
  );
}

function KeptCheckpoint({ trusted }) {
  const [note, setNote] = useState('');
  const { busy, result, run } = useCheck(() => checkKeptCheckpoint(note, trusted));
  const submit = (e) => {
    e.preventDefault();
    run();
  };
  return (
    <form onSubmit={submit}>
      <label>
        A checkpoint you kept (the whole signed note)
        <textarea name="kept_checkpoint" rows="5" spellcheck={false} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={busy || !note.trim() || !trusted}>{busy ? 'Checking…' : 'Check against the log now'}</button>
      <Verdict result={result} testid="kept" />
    </form>
  );
}

function BundleCheck({ trusted }) {
  const [file, setFile] = useState(null);
  const { busy, result, run, clear } = useCheck(async () => {
    const v = await verifyBundle(await file.arrayBuffer(), trusted);
    if (!v.ok) return { ok: false, problem: v.summary, more: v.problems.slice(1) };
    // An older format proves no completeness: one with its completeness part
    // removed (an event dropped from its end) reads the same (verify-bundle
    // exits 5 for it unless --inclusion-only).
    if (!v.complete) return { ok: false, problem: `NOT PROVEN COMPLETE: ${v.summary}`, more: [] };
    return { ok: true, text: v.summary };
  });
  const submit = (e) => {
    e.preventDefault();
    run();
  };
  const take = (f) => {
    setFile(f || null);
    clear();
  };
  return (
    <form onSubmit={submit} onDragOver={(e) => e.preventDefault()}
      onDrop={(e) => {
        e.preventDefault();
        take(e.dataTransfer.files[0]);
      }}>
      <p class="muted">Checked here, in this browser: nothing of the file is sent anywhere.</p>
      <label>
        Evidence bundle (a file from “Download evidence bundle” or <code>custodian bundle</code>; or drop it here)
        <input type="file" name="bundle" accept=".json,application/json" onChange={(e) => take(e.currentTarget.files[0])} />
      </label>
      <button type="submit" disabled={busy || !file || !trusted}>{busy ? 'Verifying…' : 'Verify the bundle'}</button>
      <Verdict result={result} testid="bundle" />
    </form>
  );
}

export function Audit() {
  const verify = useApi('/v1/verify');
  const key = useApi('/v1/verifier-key');
  const checkpoints = useApi('/v1/checkpoints');
  const [trusted, setTrusted] = useState('');
  return (
    <div>
      <h1>Audit</h1>
      <div class="grid">
        <Section title="Verification" id="a-verify">
          <Loaded state={verify}>
            {(v) => (
              <p class={v.ok ? 'ok' : 'problem'} data-verify={v.ok ? 'ok' : 'failed'}>
                {v.ok ? '✔ The log verifies' : `✘ The log does not verify: ${v.problem || v.error}`}: {v.events} events in {v.streams} streams,
                root <code>{v.root}</code>, {v.checkpoints_checked} checkpoints checked ({v.seconds} s).
              </p>
            )}
          </Loaded>
        </Section>
        <Section title="Verifier key" id="a-key">
          <Loaded state={key}>{(k) => (
              <>
                <p>Give this key to whoever checks a checkpoint or an evidence bundle offline (<code>custodian verify-bundle --key</code>):</p>
                <pre class="wrap" data-key>{k.verifier_key}</pre>
              </>
            )}</Loaded>
        </Section>
        <Section title="Check in this browser" id="a-check">
          <TrustedKey value={trusted} onInput={setTrusted} serverKey={key.data?.verifier_key} />
          <h3>A kept checkpoint</h3>
          <KeptCheckpoint trusted={trusted} />
          <h3>An evidence bundle</h3>
          <BundleCheck trusted={trusted} />
        </Section>
        <Section title="Signed checkpoints" id="a-checkpoints">
          <Loaded state={checkpoints}>
            {(rows) => (
              <PagedTable items={rows.map((r) => r.checkpoint).reverse()} per={10} empty="No checkpoint has been signed yet."
                label="checkpoints" head={['Log', 'Size', 'Root', 'Note']}
                row={(note) => {
                  const [origin, size, root] = note.split('\n');
                  return (
                    <tr key={size} data-size={size}>
                      <td>{origin}</td>
                      <td class="num">{size}</td>
                      <td><code>{root}</code></td>
                      <td>
                        <details>
                          <summary>note</summary>
                          <pre class="wrap" data-note={size}>{note}</pre>
                        </details>
                      </td>
                    </tr>
                  );
                }} />
            )}
          </Loaded>
        </Section>
      </div>
    </div>
  );
}
