// `keel/body`: request body parsers on Keel's public API, each a promise function for a plain
// `(req, res)` handler (`await json(req)`) and a middleware (`bodyParser.json()`). Limits are
// checked before reading and after decoding; every failure is an HttpError with a status and code.
//   import { json, bodyParser, sendError } from 'keel/body';

export { bodyParser, type BodyMiddleware, type Next } from './middleware.js';
export { json, jsonParser, JSON_TYPES, type JsonOptions } from './json.js';
export { urlencoded, urlencodedParser, type UrlencodedOptions } from './urlencoded.js';
export { text, textParser, type TextOptions } from './text.js';
export { raw, rawParser, type RawOptions } from './raw.js';
export { multipart, multipartParser, type MultipartOptions } from './multipart.js';
export { removeUploads, type MultipartBody, type UploadedFile } from './multipart-upload.js';
export { HttpError, BODY_ERROR_STATUS, type BodyErrorCode, type HttpErrorOptions } from './http-error.js';
export { sendError } from './send-error.js';
export { parseByteSize } from './byte-size.js';
export { hasBody } from './body-reader.js';
export { BODY_LIMIT_BYTES, DRAIN_LIMIT_BYTES, type BodyOptions, type BodyRequest } from './read-body.js';
export type { FormFields } from './form-fields.js';
export type { TypeOption } from './media-type.js';
