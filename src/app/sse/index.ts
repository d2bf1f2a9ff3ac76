// keel/sse: server-sent events (WHATWG HTML §9.2) on Keel's server: `sse(req, res)` starts an
// event stream with heartbeats, Last-Event-ID and a bounded per-client buffer; a Channel
// broadcasts to many streams; the format functions give the exact wire text.

export { EventStream, sse, createEventStream, DEFAULT_HEARTBEAT_MS, DEFAULT_MAX_BUFFERED_BYTES } from './event-stream.js';
export type { EventStreamOptions, EventStreamError } from './event-stream.js';
export { Channel, createChannel } from './channel.js';
export { formatEvent, formatComment, formatRetry } from './format.js';
export type { SseEvent } from './format.js';
