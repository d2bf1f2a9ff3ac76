// The request handler of `keel proxy`: keel/proxy over the --to upstreams, round-robin with passive
// health, WebSocket upgrades tunnelled. Health endpoints and the access log are added around it.

import { createProxy, type Proxy } from '../app/proxy/index.js';
import type { ProxyConfig } from './args.js';

/** Build proxy's handler (a Proxy: `proxy.upgrade` goes on the server's 'upgrade' event). */
export function createProxyHandler(config: ProxyConfig): Proxy {
  return createProxy({ upstreams: [...config.upstreams] });
}
