/**
 * The demo: benchmarks/suites/demo.json (a reduced head-to-head) restricted to the methods this
 * build registers, so `zolo demo` works while methods are still landing and names what it skipped.
 */
import { fileURLToPath } from 'node:url';
import { registeredMethods } from './method.ts';
import type { SuiteFile } from './suiteConfig.ts';

export const DEMO_SUITE_FILE = fileURLToPath(new URL('../../benchmarks/suites/demo.json', import.meta.url));

export function demoSuite(suite: SuiteFile): { suite: SuiteFile; skipped: string[] } {
  const known = new Set(registeredMethods());
  const methodOf = (entry: SuiteFile['runs'][number]): string => String(entry.method ?? suite.base.method);
  const runs = suite.runs.filter((entry) => known.has(methodOf(entry)));
  const skipped = suite.runs.filter((entry) => !known.has(methodOf(entry))).map((entry) => entry.label);
  return { suite: { ...suite, out: null, runs }, skipped };
}
