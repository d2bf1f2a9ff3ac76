// The messages between the cluster primary and its workers, over node:cluster's IPC channel. Every
// message carries `keel` so that a user's own process.send() traffic is never mistaken for ours.

/** Primary → worker: stop taking connections, let live ones make their last request, then exit 0. */
export interface RetireMessage {
  readonly keel: 'retire';
}

/** Worker → primary: the worker cannot serve (it could not listen); the primary prints `message`. */
export interface FatalMessage {
  readonly keel: 'fatal';
  readonly message: string;
  readonly exitCode: number;
}

export type KeelMessage = RetireMessage | FatalMessage;

/** Narrow an IPC message to one of ours. */
export function isKeelMessage(value: unknown): value is KeelMessage {
  return typeof value === 'object' && value !== null && typeof (value as { keel?: unknown }).keel === 'string';
}
