#!/usr/bin/env node
// In the repository (src/ present, tsx installed) the TypeScript sources run directly through tsx's
// loader, so there is no build to forget; in an installed package the compiled dist/ runs.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli.js');
}
