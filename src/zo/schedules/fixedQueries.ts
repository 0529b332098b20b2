/**
 * Fixed query count: q directions per step, every step (n-SPSA, MeZO Def. 1 with n = q).
 * Default q = 1, MeZO's choice: at a fixed forward-pass budget n = 1 was the most efficient
 * (MeZO App. A.2, Table 6) [P].
 */
import { option, positiveInteger } from '../options.ts';
import type { QuerySchedule } from '../types.ts';

export const fixedQueries: QuerySchedule<null, 'queries'> = {
  kind: 'schedule',
  name: 'fixed',
  description: 'q directions averaged every step (n-SPSA)',
  options: {
    queries: option(1, positiveInteger, 'q, directions averaged per step', 'MeZO App. A.2 / Def. 1, n = 1 [P]'),
  },
  init: () => null,
  queries: (state, _info, options) => ({ queries: options.queries, state }),
};
