// UpstreamExchange: one client request sent upstream. It picks the upstream (round-robin, passive
// health), starts the request over Keel's client, sends the body, enforces the response-head
// timeout, retries an idempotent request with a replayable body on the next upstream when the
// connection could not be made, and reports exactly one outcome: a response, an upgrade, or a
// ProxyError.

import type { Socket } from 'node:net';
import type { ClientRequest, IncomingMessage } from '../../keel.js';
import type { BodyPlan } from './body.js';
import { ProxyError } from './errors.js';
import { requestFields } from './fields.js';
import type { ProxyContext } from './options.js';
import type { Upstream } from './upstreams.js';

/** A 1xx response other than 101, as the client's 'information' event gives it. */
export interface Information {
  statusCode: number;
  statusMessage: string;
  httpVersion: string;
  rawHeaders: string[];
}

/** The outcome of an exchange: exactly one of onResponse, onUpgrade, onFail is called. */
export interface ExchangeEvents {
  onResponse(res: IncomingMessage, upstream: Upstream): void;
  /** Set for a protocol switch (the request keeps Upgrade): the 101 and the upstream socket. */
  onUpgrade?(res: IncomingMessage, socket: Socket, head: Buffer, upstream: Upstream): void;
  onInformation?(info: Information): void;
  onFail(error: ProxyError): void;
}

/** RFC 9110 §9.2.2 idempotent methods: safe to send again when the first try never connected. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export class UpstreamExchange {
  readonly #ctx: ProxyContext;
  readonly #req: IncomingMessage;
  readonly #plan: BodyPlan;
  readonly #events: ExchangeEvents;
  readonly #tried = new Set<Upstream>();
  #creq: ClientRequest | null = null;
  #timer: NodeJS.Timeout | null = null;
  #isDone = false;

  constructor(ctx: ProxyContext, req: IncomingMessage, plan: BodyPlan, events: ExchangeEvents) {
    this.#ctx = ctx;
    this.#req = req;
    this.#plan = plan;
    this.#events = events;
  }

  /** The upstream request of the current attempt. */
  get request(): ClientRequest | null {
    return this.#creq;
  }

  start(): void {
    this.#attempt(null);
  }

  /** The client went away: abort the upstream request (its connection is closed), report nothing. */
  abort(): void {
    if (this.#isDone) return;
    this.#finish();
  }

  #attempt(lastError: ProxyError | null): void {
    const ctx = this.#ctx;
    const req = this.#req;
    const upstream = ctx.upstreams.pick(this.#tried);
    if (upstream === null) {
      this.#fail(lastError!);
      return;
    }
    this.#tried.add(upstream);
    const plan = this.#plan;
    const isUpgrade = this.#events.onUpgrade !== undefined;
    let creq: ClientRequest;
    try {
      const headers = requestFields(ctx, req, upstream, {
        upgrade: isUpgrade,
        bodyLength: plan.kind === 'buffer' ? plan.body.byteLength : null,
        contentType: plan.kind === 'buffer' ? plan.contentType : null,
      });
      creq = ctx.send(upstream, req.method ?? 'GET', ctx.upstreamPath(upstream, req.url, req), headers);
    } catch (err) {
      this.#fail(new ProxyError('ERR_PROXY_UPSTREAM', `Cannot send the request to ${upstream.origin}: ${(err as Error).message}`, upstream.origin, err));
      return;
    }
    this.#creq = creq;

    // The timeout runs while connecting and from the end of the request to the response head;
    // not while a streamed body is being sent (the server's requestTimeout bounds the client).
    let connected = false;
    const onConnect = (): void => {
      connected = true;
      if (!creq.writableFinished && this.#creq === creq) this.#clearTimer();
    };
    creq.once('socket', (socket: Socket) => {
      if (socket.connecting) socket.once('connect', onConnect);
      else if (!socket.destroyed) onConnect();
    });
    creq.once('finish', () => {
      if (this.#creq === creq && !this.#isDone) this.#armTimer(creq, upstream);
    });
    creq.on('information', (info: Information) => {
      if (this.#creq === creq && !this.#isDone) this.#events.onInformation?.(info);
    });
    creq.once('response', (res: IncomingMessage) => {
      if (this.#creq !== creq || this.#isDone) {
        res.destroy();
        return;
      }
      this.#settle();
      ctx.upstreams.markUp(upstream);
      this.#events.onResponse(res, upstream);
    });
    if (isUpgrade) {
      creq.once('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        if (this.#creq !== creq || this.#isDone) {
          socket.destroy();
          return;
        }
        this.#settle();
        ctx.upstreams.markUp(upstream);
        this.#events.onUpgrade!(res, socket, head, upstream);
      });
    }
    creq.on('error', (err: Error) => {
      if (this.#creq !== creq || this.#isDone) return;
      const error = new ProxyError('ERR_PROXY_UPSTREAM', `Upstream ${upstream.origin} failed: ${err.message}`, upstream.origin, err);
      if (connected) {
        this.#fail(error);
        return;
      }
      // Never connected: the upstream is down, and nothing of the request reached it.
      ctx.upstreams.markDown(upstream);
      this.#clearTimer();
      if (plan.kind !== 'stream' && IDEMPOTENT.has(creq.method)) this.#attempt(error);
      else this.#fail(error);
    });

    this.#armTimer(creq, upstream);

    if (plan.kind === 'buffer') creq.end(plan.body);
    else if (plan.kind === 'none') creq.end();
    else this.#pipeBody(creq);
  }

  /** Pipe the request body (backpressure by pipe), then its trailer section, if any. */
  #pipeBody(creq: ClientRequest): void {
    const req = this.#req;
    req.pipe(creq, { end: false });
    req.once('end', () => {
      if (this.#creq !== creq || this.#isDone) return;
      const raw = req.rawTrailers;
      if (raw.length > 0) {
        const trailers: [string, string][] = [];
        for (let i = 0; i < raw.length; i += 2) trailers.push([raw[i], raw[i + 1]]);
        try {
          creq.addTrailers(trailers);
        } catch {
          // a trailer the client refuses is dropped; the body is complete
        }
      }
      creq.end();
    });
  }

  /** (Re)start the response-head timeout of `creq`. */
  #armTimer(creq: ClientRequest, upstream: Upstream): void {
    const ctx = this.#ctx;
    this.#clearTimer();
    if (ctx.timeout <= 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#creq !== creq || this.#isDone) return;
      ctx.upstreams.markDown(upstream);
      this.#fail(new ProxyError('ERR_PROXY_TIMEOUT', `Upstream ${upstream.origin} sent no response head within ${ctx.timeout} ms`, upstream.origin));
    }, ctx.timeout);
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  /** A response or an upgrade arrived: no timeout or retry any more; the request stays as it is. */
  #settle(): void {
    this.#isDone = true;
    this.#clearTimer();
  }

  /** Stop everything: the upstream request is destroyed (its connection closed). */
  #finish(): void {
    this.#isDone = true;
    this.#clearTimer();
    const creq = this.#creq;
    if (creq !== null) {
      if (this.#plan.kind === 'stream') this.#req.unpipe(creq);
      if (!creq.destroyed) creq.destroy();
    }
  }

  #fail(error: ProxyError): void {
    if (this.#isDone) return;
    this.#finish();
    this.#events.onFail(error);
  }
}
