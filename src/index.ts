// TEMPORARY scaffold: replaced by Keel's own engine in this same session.
import http from 'node:http';
export * from 'node:http';
export default http;
