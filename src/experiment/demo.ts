/**
 * The demo: benchmarks/suites/demo.json (a reduced head-to-head) restricted to the methods this
 * build registers, so `zolo demo` works while methods are still landing and names what it skipped.
 * The two baselines every table is read against — the class prior (`majority`) and the linear probe
 * on frozen features — run first, added here when the suite file does not list them (their cost is
 * one pass over the demo's training e-mails, and they take no budget of their own).
 */
import { fileURLToPath } from 'node:url';
import { registeredMethods } from './method.ts';
import type { SuiteFile } from './suiteConfig.ts';

export const DEMO_SUITE_FILE = fileURLToPath(new URL('../../benchmarks/suites/demo.json', import.meta.url));

export const DEMO_BASELINES: SuiteFile['runs'] = [
  { label: 'class prior', method: 'majority', grid: {} },
  { label: 'linear probe', method: 'linear-probe', grid: {} },
];

export function demoSuite(suite: SuiteFile): { suite: SuiteFile; skipped: string[] } {
  const known = new Set(registeredMethods());
  const methodOf = (entry: SuiteFile['runs'][number]): string => String(entry.method ?? suite.base.method);
  const listed = new Set(suite.runs.map(methodOf));
  const all = [...DEMO_BASELINES.filter((entry) => !listed.has(methodOf(entry))), ...suite.runs];
  const runs = all.filter((entry) => known.has(methodOf(entry)));
  const skipped = all.filter((entry) => !known.has(methodOf(entry))).map((entry) => entry.label);
  return { suite: { ...suite, out: null, runs }, skipped };
}
