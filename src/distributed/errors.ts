/**
 * Errors of the distributed room. Each says what failed and what to do about it; the CLI prints
 * `<name>: <message>` and exits with status 2, as for every ZoloError.
 */
import { ZoloError } from '../errors.ts';

/** Redis could not be reached (down, wrong address, refused credentials or TLS). */
export class RedisUnavailable extends ZoloError {}

/** A queued job that is malformed or asks for something the worker does not allow; it is never run. */
export class JobRejected extends ZoloError {}

/** The replica group cannot go on: the coordinator is gone, a message is malformed, or replicas disagree. */
export class ReplicaError extends ZoloError {}
