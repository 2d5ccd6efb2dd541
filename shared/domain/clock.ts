/** Milliseconds since the epoch; injected so time can be controlled in tests. */
export type Clock = () => number;

export const systemClock: Clock = Date.now;
