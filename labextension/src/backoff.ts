/**
 * Reconnection delays: exponential backoff with jitter, so that a server restart is not met
 * by every open tab at the same instant.
 */
export interface IBackoffOptions {
  /** First delay in milliseconds. */
  initial: number;
  /** Upper bound of a delay in milliseconds. */
  max: number;
  factor: number;
}

export const DEFAULT_BACKOFF: IBackoffOptions = { initial: 500, max: 30_000, factor: 2 };

/**
 * The delay before reconnect attempt `attempt` (0-based): the exponential ceiling scaled by
 * a random factor in [0.5, 1) ("equal jitter": never zero, never all at once).
 */
export function backoffDelay(
  attempt: number,
  options: IBackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random
): number {
  const ceiling = Math.min(options.max, options.initial * Math.pow(options.factor, attempt));
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** After this many failed attempts in a row the indicator says "offline", not "reconnecting". */
export const OFFLINE_AFTER_ATTEMPTS = 3;
