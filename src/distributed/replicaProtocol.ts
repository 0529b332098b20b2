/**
 * The messages a data-parallel replica group exchanges on its Redis stream (`<prefix>:events`), one
 * JSON object per stream entry. Per step the coordinator announces the members, and every member
 * publishes, per loss evaluation ("point": +ε, −ε, … in the estimator's order), the losses of the
 * rows it computed — 4 bytes per example, base64 — never weights, gradients or noise.
 *
 *   step   {step, members}                      coordinator: step `step` runs with these ranks
 *   losses {step, point, rank, start, values}   rows [start, start + n) of the step's batch at that point
 *   join   {rank, fromStep}                      a replica is ready to be admitted (it then catches up)
 *   drop   {step, point, rank, reason}          coordinator: `rank` is out from this point on
 *   stop   {step, reason, message}              coordinator: the run ended; members checkpoint and exit
 *
 * Anything read from the stream is validated here; a malformed entry is a ReplicaError naming the
 * field, never acted on.
 */
import { z } from 'zod';
import { ReplicaError } from './errors.ts';

export const REPLICA_PROTOCOL = 'zolo-replica/1';

/** Ranks are small integers: 0 is the coordinator. */
export const MAX_REPLICAS = 256;

const rank = z.number().int().min(0).max(MAX_REPLICAS - 1);
const step = z.number().int().min(0);

const stepMessage = z.strictObject({ kind: z.literal('step'), step, members: z.array(rank).min(1).max(MAX_REPLICAS) });
const lossesMessage = z.strictObject({
  kind: z.literal('losses'),
  step,
  point: z.number().int().min(0),
  rank,
  start: z.number().int().min(0),
  values: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/),
});
const joinMessage = z.strictObject({ kind: z.literal('join'), rank, fromStep: step });
const dropMessage = z.strictObject({ kind: z.literal('drop'), step, point: z.number().int().min(0), rank, reason: z.string() });
export const STOP_REASONS = ['completed', 'diverged', 'interrupted', 'failed'] as const;
const stopMessage = z.strictObject({ kind: z.literal('stop'), step, reason: z.enum(STOP_REASONS), message: z.string() });

const messageSchema = z.discriminatedUnion('kind', [stepMessage, lossesMessage, joinMessage, dropMessage, stopMessage]);

export type ReplicaMessage = z.infer<typeof messageSchema>;
export type StepMessage = z.infer<typeof stepMessage>;
export type LossesMessage = z.infer<typeof lossesMessage>;
export type JoinMessage = z.infer<typeof joinMessage>;
export type DropMessage = z.infer<typeof dropMessage>;
export type StopMessage = z.infer<typeof stopMessage>;

/** Float32 values as base64 of their little-endian bytes: exact, 4 bytes per value on the wire (+⅓ for base64). */
export function encodeLosses(values: Float32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return Buffer.from(bytes).toString('base64');
}

export function decodeLosses(text: string, where: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new ReplicaError(`${where}: values must hold whole float32s, got ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/**
 * `text` parsed as JSON and checked against `schema`; a ReplicaError naming `where` and the first
 * offending field otherwise. Everything a member reads from Redis goes through here.
 */
export function parseChecked<T>(schema: z.ZodType<T>, text: string, where: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ReplicaError(`${where}: not JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ReplicaError(`${where}: malformed ${what} at "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  return parsed.data;
}

/** Parses one stream entry; `where` names the entry in errors. */
export function parseMessage(text: string, where: string): ReplicaMessage {
  return parseChecked(messageSchema, text, where, `${REPLICA_PROTOCOL} message`);
}
