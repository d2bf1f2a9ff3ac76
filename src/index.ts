// The public surface of `keel`: `import http from 'keel'`, `import { createServer } from 'keel'` or
// `const http = require('keel')`, each in place of node:http. The default export is the module
// namespace itself, so the default and the named exports are the same objects.

import * as http from './keel.js';

export * from './keel.js';
export default http;
