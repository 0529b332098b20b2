/**
 * results.json: every run of a suite in one file — its place in the grid, its config, its summary
 * and its metrics curve — so the report and the plots are pure functions of this one file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from './config.ts';
import { FILES, type MetricsLine, type RunSummary } from './runner.ts';

export interface RunResultEntry {
  id: string;
  label: string;
  group: string;
  seed: number;
  gridPoint: Record<string, unknown>;
  config: RunConfig;
  summary: RunSummary;
  /** metrics lines, thinned to at most MAX_CURVE_POINTS (evaluation lines always kept). */
  curve: MetricsLine[];
}

export interface SuiteResults {
  suite: { name: string; description: string; targetAccuracy: number | null };
  runs: RunResultEntry[];
}

export const MAX_CURVE_POINTS = 400;

export function readMetrics(dir: string): MetricsLine[] {
  const path = join(dir, FILES.metrics);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as MetricsLine);
}

/** Keeps every evaluation line and an evenly spaced subset of the rest (always the last). */
export function thinCurve(lines: readonly MetricsLine[], maxPoints = MAX_CURVE_POINTS): MetricsLine[] {
  if (lines.length <= maxPoints) return [...lines];
  const stride = Math.ceil(lines.length / maxPoints);
  return lines.filter((line, i) => line.eval !== undefined || i % stride === 0 || i === lines.length - 1);
}

/** First evaluation at which accuracy ≥ target: the forward passes spent to get there, else null. */
export function forwardPassesToTarget(curve: readonly MetricsLine[], target: number): number | null {
  for (const line of curve) if (line.eval && line.eval.accuracy >= target) return line.forwardPasses;
  return null;
}
