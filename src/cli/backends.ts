import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { createBackend, defaultBackendName, registeredBackends } from '../kernels/index.ts';

export function register(program: Command): void {
  program
    .command('backends')
    .description(commandDescription('backends'))
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const rows = [];
      for (const name of registeredBackends()) {
        try {
          const backend = await createBackend(name);
          rows.push({ name, mode: backend.mode, available: true });
          backend.dispose();
        } catch (error) {
          rows.push({ name, mode: (error as Error).message, available: false });
        }
      }
      const chosen = defaultBackendName();
      if (options.json) {
        console.log(JSON.stringify({ default: chosen, backends: rows }, null, 2));
        return;
      }
      for (const row of rows) console.log(`${row.name === chosen ? '*' : ' '} ${row.name.padEnd(6)} ${row.mode}`);
      console.log(`default: ${chosen} (override with --backend or ZOLO_BACKEND)`);
    });
}
