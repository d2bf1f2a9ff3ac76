// `keel/https`: node:https on Keel: createServer / Server (Keel's server over TLS) and the client
// half — request, get, Agent and globalAgent for https: URLs (TLS through node:tls, ALPN http/1.1,
// SNI from the host name; ca, cert, key, rejectUnauthorized, servername as request or agent options).
//   import https from 'keel/https';
//   https.get('https://localhost:8443/', { ca }, (res) => res.pipe(process.stdout));

import { HttpsAgent, httpsGlobalAgent } from './client/agent.js';
import { HttpsServer, createHttpsServer, type HttpsServerOptions } from './server/https-server.js';
import { ClientRequest, type ClientIncomingMessage, type RequestOptions } from './client/client-request.js';

type ResponseListener = (res: ClientIncomingMessage) => void;

function withDefaultAgent(input: string | URL | RequestOptions, options?: RequestOptions | ResponseListener): [string | URL | RequestOptions, RequestOptions | ResponseListener | undefined] {
  if (typeof input === 'object' && !(input instanceof URL)) return [{ _defaultAgent: httpsGlobalAgent, ...input }, options];
  if (typeof options === 'function' || options === undefined) return [input, { _defaultAgent: httpsGlobalAgent }];
  return [input, { _defaultAgent: httpsGlobalAgent, ...options }];
}

/** node:https's request(): a ClientRequest over TLS; call end() to send it. */
export function request(input: string | URL | RequestOptions, options?: RequestOptions | ResponseListener, callback?: ResponseListener): ClientRequest {
  if (typeof options === 'function') {
    callback = options;
    options = undefined;
  }
  const [target, opts] = withDefaultAgent(input, options);
  return new ClientRequest(target, opts as RequestOptions | undefined, callback);
}

/** node:https's get(): request() with GET, ended at once. */
export function get(input: string | URL | RequestOptions, options?: RequestOptions | ResponseListener, callback?: ResponseListener): ClientRequest {
  const req = request(input, options, callback);
  req.end();
  return req;
}

export { HttpsAgent as Agent, httpsGlobalAgent as globalAgent, HttpsServer as Server, createHttpsServer as createServer };
export type { HttpsServerOptions as ServerOptions };
const https = { request, get, Agent: HttpsAgent, globalAgent: httpsGlobalAgent, Server: HttpsServer, createServer: createHttpsServer };
export default https;
