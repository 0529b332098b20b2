/**
 * The published package as a user receives it: `npm pack` (whose prepack builds dist/), an install
 * of the tarball into an empty project with no network, then plain Node 20 ESM imports, the `zolo`
 * binary, and a strict TypeScript consumer type-checked against the shipped declarations.
 *
 * No network: the consumer's lockfile is the repository's lockfile without its dev entries plus the
 * tarball, so `npm ci --offline` takes every dependency from the npm cache that the repository's
 * own `npm ci` filled, at the versions the repository is tested with. Optional dependencies and
 * install scripts are skipped (the only one is gpu.js's optional native `gl`, which the imports below
 * never load), which keeps the install to a copy out of the cache.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TSC = join(REPO, 'node_modules/typescript/bin/tsc');

interface PackedFile { path: string }
interface PackResult { filename: string; files: PackedFile[] }

interface LockEntry { dev?: boolean; [field: string]: unknown }

let work = '';
let consumer = '';
let packed: PackResult;

/** Runs a command; a failure carries its stdout and stderr (tsc reports type errors on stdout). */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ').slice(0, 200)} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** The consumer's lockfile: the tarball plus the repository's non-dev entries, unchanged. */
function consumerLock(tarball: string): object {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { zolo: tarball } },
    'node_modules/zolo': { version: pkg.version, resolved: tarball, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && !entry.dev) packages[path] = entry;
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'zolo-package-'));
  [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], REPO)) as PackResult[];
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  const tarball = `file:../${packed!.filename}`;
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { zolo: tarball } }));
  writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify(consumerLock(tarball)));
  run('npm', ['ci', '--offline', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund'], consumer);
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships dist, docs, the checkpoint, the demo suite and the launcher, and no sources, tests or results', () => {
    const paths = packed.files.map((file) => file.path);
    const top = new Set(paths.map((path) => path.split('/')[0]));
    expect([...top].sort()).toEqual(['README.md', 'benchmarks', 'bin', 'checkpoints', 'dist', 'docs', 'package.json']);
    expect(paths.filter((path) => path.startsWith('benchmarks/') || path.startsWith('bin/'))).toEqual(expect.arrayContaining(['benchmarks/suites/demo.json', 'bin/zolo.js']));
    expect(paths.filter((path) => path.startsWith('benchmarks/') || path.startsWith('bin/'))).toHaveLength(2);
    expect(paths).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/cli.js', 'checkpoints/tiny/model.safetensors', 'docs/api.md']));
    expect(paths.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
  });

  it('imports in plain Node ESM and trains a step from dist', () => {
    const script = `
      import { createBackend, createEstimator, Engine, ParamStore } from 'zolo';
      import { quadratic } from 'zolo/assumptions/arbitraries';
      const params = new ParamStore(new Engine(await createBackend('cpu')));
      params.add('w', 'mlp', [2, 3], [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]);
      const estimator = createEstimator('mezo', { lr: 1e-3 });
      const { state, record } = await estimator.step(estimator.init(params, { seed: 1 }), { loss: async () => 1 });
      estimator.dispose(state);
      console.log(JSON.stringify({ seeds: record.seeds.length, arbitraries: typeof quadratic }));`;
    const output = run(process.execPath, ['--input-type=module', '-e', script], consumer);
    expect(JSON.parse(output)).toEqual({ seeds: 1, arbitraries: 'function' });
  });

  it('runs the zolo binary from dist, without tsx', () => {
    const help = run(process.execPath, [join(consumer, 'node_modules/zolo/bin/zolo.js'), '--help'], consumer);
    expect(help).toContain('Usage: zolo');
    expect(help).toMatch(/replay \[dir\]/);
    const methods = run(process.execPath, [join(consumer, 'node_modules/zolo/bin/zolo.js'), 'methods'], consumer);
    expect(methods).toContain('mezo');
    expect(methods).toContain('adalomo');
    expect(() => run(process.execPath, ['-e', "import('tsx')"], consumer)).toThrow();
  });

  it('runs the SubZero example plug-in by name, replays its run bit for bit in a new process, and type-checks it against the shipped declarations', () => {
    cpSync(join(REPO, 'examples/subzero'), join(consumer, 'subzero'), { recursive: true });
    const zolo = (...args: string[]): string => run(process.execPath, [join(consumer, 'node_modules/zolo/bin/zolo.js'), ...args], consumer);
    zolo('run', '--plugin', 'subzero/index.js', '--method', 'subzero', '--task', 'synthetic-blobs', '--model', 'linear', '--backend', 'cpu',
      '--steps', '6', '--lr', '0.05', '--set', 'options.rank=2', '--set', 'options.interval=4', '--out', 'runs/subzero');
    // a new process: replay imports the plug-in the run's config.json names
    expect(zolo('replay', 'runs/subzero')).toContain('identical bit for bit');
    run(process.execPath, [TSC, '-p', 'subzero'], consumer);
  }, 600_000);

  it('type-checks a strict TypeScript consumer against the shipped declarations', () => {
    writeFileSync(join(consumer, 'consumer.ts'), readFileSync(join(REPO, 'test/package/consumer/consumer.ts'), 'utf8'));
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
        noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, skipLibCheck: false,
        types: ['node'], typeRoots: [join(REPO, 'node_modules/@types')],
      },
      files: ['consumer.ts'],
    }));
    run(process.execPath, [TSC, '-p', '.'], consumer);
  });
});
