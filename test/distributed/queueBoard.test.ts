/**
 * The queued suite's progress: runs queued / running / done / failed, for the suite and per
 * worker; in a log (not a terminal) the lines are printed again only when a count changes.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { boardDisplay, QueueBoard } from '../../src/distributed/queueBoard.ts';

/** A non-terminal stream that keeps what was written. */
function logStream(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const writable = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream: Object.assign(writable, { isTTY: false }) as unknown as NodeJS.WriteStream, text: () => text };
}

describe('queue board', () => {
  it('counts runs by state, for the suite and for each worker', () => {
    const board = new QueueBoard('suite s', ['a', 'b', 'c', 'd', 'e'], ['e']);
    board.update('a', { state: 'running', worker: 'w2' });
    board.update('a', { step: 3, total: 10 });
    board.update('b', { state: 'done', worker: 'w1' });
    board.update('c', { state: 'failed', worker: 'w1' });
    expect(board.counts()).toEqual({ queued: 1, running: 1, done: 2, failed: 1 });
    expect(board.lines()).toEqual([
      'suite s: 5 runs — 1 queued, 1 running, 2 done, 1 failed',
      '  w1  idle  ·  1 done  ·  1 failed',
      '  w2  running a (step 3/10)  ·  0 done  ·  0 failed',
    ]);
    // a finished run forgets its step
    board.update('a', { state: 'done' });
    expect(board.lines()[2]).toBe('  w2  idle  ·  1 done  ·  0 failed');
  });

  it('prints the board to a log when a count changes, not when a step does', () => {
    const { stream, text } = logStream();
    const display = boardDisplay(stream);
    const board = new QueueBoard('suite s', ['a', 'b']);
    display.show(board);
    board.update('a', { state: 'running', worker: 'w1' });
    display.show(board);
    board.update('a', { step: 1, total: 4 });
    display.show(board);
    board.update('a', { state: 'done' });
    display.show(board, 'a: done on w1');
    display.end(board);
    expect(text().split('\n')).toEqual([
      'suite s: 2 runs — 2 queued, 0 running, 0 done, 0 failed',
      'suite s: 2 runs — 1 queued, 1 running, 0 done, 0 failed',
      '  w1  running a  ·  0 done  ·  0 failed',
      'a: done on w1',
      'suite s: 2 runs — 1 queued, 0 running, 1 done, 0 failed',
      '  w1  idle  ·  1 done  ·  0 failed',
      '',
    ]);
  });
});
