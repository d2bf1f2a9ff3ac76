// `keel/client`: the promise API, kept apart from the node-compatible `request` that `keel` exports.
//   import { request, Pool, Client } from 'keel/client';
//   const { statusCode, headers, body } = await request('http://localhost:3000/api', { method: 'GET' });
//   const data = await body.json();

export { BodyReadable, Client, Pool, request } from './client/promise-api.js';
export type { ClientPoolOptions, RequestBody, RequestHeaders, RequestOptions, ResponseData } from './client/promise-api.js';
