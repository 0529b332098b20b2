/**
 * The PyTorch yardstick the benchmarks put beside zolo. The interpreter is $ZOLO_TORCH_PYTHON when
 * set, else a `python3` on PATH that can import torch; without either the PyTorch columns read "not
 * installed". The peer script is ../shared/peers/torch_peer.py, beside the repository.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPOSITORY = join(dirname(fileURLToPath(import.meta.url)), '..');

export const TORCH_PEER = join(REPOSITORY, '..', 'shared', 'peers', 'torch_peer.py');

export type TorchPython = { available: true; python: string } | { available: false; note: string };

let found: TorchPython | undefined;

/** The Python interpreter that can import torch, looked up once per process. */
export function torchPython(): TorchPython {
  if (found) return found;
  const configured = process.env.ZOLO_TORCH_PYTHON;
  const python = configured || 'python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
  found = probe.status === 0
    ? { available: true, python }
    : { available: false, note: configured ? `not installed (ZOLO_TORCH_PYTHON=${configured} cannot import torch)` : 'not installed (no ZOLO_TORCH_PYTHON, and no python3 on PATH that imports torch)' };
  return found;
}
