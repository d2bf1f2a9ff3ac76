// multipart(): a multipart/form-data body (RFC 7578) through busboy, as { fields, files }. Files go
// to temp files in `uploadDir` (default) or into memory; limits per file, per field, on the counts
// of files and fields, and on the whole body (`limit`, which also caps a file by default).

import { tmpdir } from 'node:os';
import type { IncomingMessage } from '../../keel.js';
import { parseByteSize } from './byte-size.js';
import { createFields } from './form-fields.js';
import { HttpError } from './http-error.js';
import { MultipartUpload, type MultipartBody, type UploadConfig } from './multipart-upload.js';
import { acceptBody, parsedBody, readSettings, type BodyOptions } from './read-body.js';

/** Options of multipart() and bodyParser.multipart(); `type` defaults to 'multipart/form-data'. */
export interface MultipartOptions extends BodyOptions {
  /** 'disk' (default): each file to a new temp file, `path` set; 'memory': `buffer` set. */
  storage?: 'disk' | 'memory';
  /** Directory of the temp files (default os.tmpdir()); it must exist. */
  uploadDir?: string;
  /** Most bytes per file (default: `limit`): 413 ERR_FILE_TOO_LARGE. */
  fileSize?: number | string;
  /** Most files (default 10): 413 ERR_TOO_MANY_FILES. */
  files?: number;
  /** Most non-file fields (default 1000): 413 ERR_TOO_MANY_FIELDS. */
  fields?: number;
  /** Most bytes per field value (default 64 KiB): 413 ERR_FIELD_TOO_LARGE. */
  fieldSize?: number | string;
}

function count(value: number, name: string): number {
  if (value === Infinity || (Number.isInteger(value) && value >= 0)) return value;
  throw Object.assign(new TypeError(`The option '${name}' must be a non-negative integer. Received ${String(value)}`), { code: 'ERR_INVALID_ARG_VALUE' });
}

/**
 * Compile the options once: a function from a request to its MultipartBody ({ fields: {}, files: [] }
 * with no content). Rejects with HttpError 400 ERR_INVALID_MULTIPART (no boundary, bad part
 * header, unexpected end), 413 ERR_FILE_TOO_LARGE / ERR_FIELD_TOO_LARGE / ERR_TOO_MANY_FILES /
 * ERR_TOO_MANY_FIELDS / ERR_BODY_TOO_LARGE, 500 ERR_UPLOAD_FAILED (a temp file could not be
 * written), and the reading errors; on any of them the files written so far are removed first.
 * On success the temp files are the caller's: move them, or remove them with removeUploads().
 */
export function multipartParser(options: MultipartOptions = {}): (req: IncomingMessage) => Promise<MultipartBody> {
  const settings = readSettings(options, 'multipart/form-data');
  const storage = options.storage ?? 'disk';
  if (storage !== 'disk' && storage !== 'memory') {
    throw Object.assign(new TypeError(`The option 'storage' must be 'disk' or 'memory'. Received ${String(storage)}`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const config: Omit<UploadConfig, 'uploadDir'> = {
    storage,
    fileSize: parseByteSize(options.fileSize ?? settings.limit, 'fileSize'),
    files: count(options.files ?? 10, 'files'),
    fields: count(options.fields ?? 1000, 'fields'),
    fieldSize: parseByteSize(options.fieldSize ?? 64 * 1024, 'fieldSize'),
  };
  return async (req) => {
    const existing = parsedBody(req);
    if (existing !== undefined) return existing as MultipartBody;
    const accepted = await acceptBody(req, settings);
    if (accepted === null) return { fields: createFields(), files: [] };
    let upload: MultipartUpload;
    try {
      upload = new MultipartUpload(req.headers['content-type']!, accepted.reader, { ...config, uploadDir: options.uploadDir ?? tmpdir() });
    } catch (err) {
      return accepted.reader.refuse(err as HttpError);
    }
    return upload.run();
  };
}

/** Parse `req`'s multipart/form-data body: `const { fields, files } = await multipart(req, { storage: 'memory' })`. */
export function multipart(req: IncomingMessage, options?: MultipartOptions): Promise<MultipartBody> {
  return multipartParser(options)(req);
}
