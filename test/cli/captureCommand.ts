/** Runs one CLI subcommand in-process, as `zolo ARGS…` would, and returns what it printed with console.log. */
import { Command } from 'commander';
import { vi } from 'vitest';

export async function captureCommand(register: (program: Command) => void, args: readonly string[]): Promise<string> {
  const program = new Command().exitOverride();
  register(program);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  try {
    await program.parseAsync(['node', 'zolo', ...args]);
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}
