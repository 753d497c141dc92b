// Builds the UI into one folder of static files: index.html, app.js, app.css, favicon.svg.
//   node build.mjs [--out DIR]     (default: dist/)
// `custodian serve` serves that folder (--web DIR; the CMake build puts it in build/ui).
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf('--out');
const out = at > 0 ? process.argv[at + 1] : join(here, 'dist');
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src/main.jsx') },
  bundle: true,
  minify: true,
  sourcemap: false,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  loader: { '.css': 'css' },
  logLevel: 'warning',
  legalComments: 'none',
});
await copyFile(join(here, 'index.html'), join(out, 'index.html'));
await copyFile(join(here, 'favicon.svg'), join(out, 'favicon.svg'));
console.log(`custodian web UI built into ${out}`);
