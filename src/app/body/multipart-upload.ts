// MultipartUpload: one multipart/form-data body through busboy. Fields are collected; each file is
// streamed to its own new temp file (mode 0600, a random name, never the client's) or buffered in
// memory. The first error wins: reading stops, every stream is destroyed, and every file written
// so far is removed before the promise rejects.

import busboy from 'busboy';
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BodyReader } from './body-reader.js';
import { addField, createFields, type FormFields } from './form-fields.js';
import { bodyError, HttpError } from './http-error.js';

/** An uploaded file: `path` (disk storage) or `buffer` (memory storage); `size` in bytes. */
export interface UploadedFile {
  /** The form field's name. */
  fieldname: string;
  /** The client's file name, reduced to its base name ('' when the part had none). Never used as a path. */
  filename: string;
  /** The part's Content-Type ('application/octet-stream' when absent, as busboy). */
  mimeType: string;
  /** The part's Content-Transfer-Encoding ('7bit' when absent). */
  encoding: string;
  /** Bytes received. */
  size: number;
  /** Where the file was written (disk storage). */
  path?: string;
  /** The file's bytes (memory storage). */
  buffer?: Buffer;
}

/** What multipart() resolves: the fields (repeated names as arrays) and the files in order. */
export interface MultipartBody {
  fields: FormFields;
  files: UploadedFile[];
}

/** Limits and storage of one upload, checked by multipartParser(). */
export interface UploadConfig {
  storage: 'disk' | 'memory';
  uploadDir: string;
  fileSize: number;
  files: number;
  fields: number;
  fieldSize: number;
}

interface FileRecord {
  file: UploadedFile;
  stream: Readable;
  out: WriteStream | null;
  /** Settles when the temp file is closed (at once for memory storage). */
  closed: Promise<void>;
}

/** Remove uploaded temp files (disk storage); files already moved or removed are skipped. */
export async function removeUploads(files: readonly UploadedFile[]): Promise<void> {
  await Promise.all(files.map((file) => (file.path === undefined ? undefined : unlink(file.path).catch(() => {}))));
}

/** One upload: run() resolves the MultipartBody or rejects with the first HttpError. */
export class MultipartUpload {
  readonly #reader: BodyReader;
  readonly #config: UploadConfig;
  readonly #busboy: busboy.Busboy;
  readonly #fields = createFields();
  readonly #records: FileRecord[] = [];
  #failure: HttpError | null = null;
  #rejectFailed: (err: HttpError) => void = () => {};
  readonly #failed: Promise<never>;

  /** Throws HttpError 400 ERR_INVALID_MULTIPART when the Content-Type has no usable boundary. */
  constructor(contentType: string, reader: BodyReader, config: UploadConfig) {
    this.#reader = reader;
    this.#config = config;
    try {
      this.#busboy = busboy({
        headers: { 'content-type': contentType },
        defParamCharset: 'utf8',
        // busboy flags a value that reaches its limit; one more byte lets a value of exactly the limit pass.
        limits: { fileSize: config.fileSize + 1, fieldSize: config.fieldSize + 1, files: config.files, fields: config.fields },
      });
    } catch (cause) {
      throw bodyError('ERR_INVALID_MULTIPART', `Invalid multipart/form-data: ${(cause as Error).message}`, { cause });
    }
    this.#failed = new Promise<never>((_resolve, reject) => {
      this.#rejectFailed = reject;
    });
    this.#failed.catch(() => {});
  }

  async run(): Promise<MultipartBody> {
    const bb = this.#busboy;
    bb.on('field', this.#onField);
    bb.on('file', this.#onFile);
    bb.on('filesLimit', () => this.#fail(bodyError('ERR_TOO_MANY_FILES', `More than ${this.#config.files} files`)));
    bb.on('fieldsLimit', () => this.#fail(bodyError('ERR_TOO_MANY_FIELDS', `More than ${this.#config.fields} fields`)));
    bb.on('error', (cause: Error) => this.#fail(bodyError('ERR_INVALID_MULTIPART', `Invalid multipart/form-data: ${cause.message}`, { cause })));
    bb.on('drain', () => this.#reader.resume());
    const finished = new Promise<void>((resolve) => bb.once('finish', resolve));
    try {
      await this.#reader.read((chunk) => bb.write(chunk));
      if (this.#failure !== null) throw this.#failure;
      bb.end();
      await Promise.race([finished, this.#failed]);
      await Promise.race([Promise.all(this.#records.map((record) => record.closed)), this.#failed]);
      if (this.#failure !== null) throw this.#failure;
      return { fields: this.#fields, files: this.#records.map((record) => record.file) };
    } catch (err) {
      this.#fail(err);
      await Promise.all(this.#records.map((record) => record.closed));
      await removeUploads(this.#records.map((record) => record.file));
      throw this.#failure;
    }
  }

  #onField = (name: string, value: string, info: busboy.FieldInfo): void => {
    if (this.#failure !== null) return;
    if (info.nameTruncated || info.valueTruncated) {
      this.#fail(bodyError('ERR_FIELD_TOO_LARGE', `Field "${name}" exceeds the limit of ${this.#config.fieldSize} bytes`));
      return;
    }
    addField(this.#fields, name, value);
  };

  #onFile = (name: string, stream: Readable, info: busboy.FileInfo): void => {
    if (this.#failure !== null) {
      stream.resume();
      return;
    }
    const file: UploadedFile = { fieldname: name, filename: info.filename ?? '', mimeType: info.mimeType, encoding: info.encoding, size: 0 };
    const limit = this.#config.fileSize;
    stream.on('limit', () => this.#fail(bodyError('ERR_FILE_TOO_LARGE', `File "${file.filename}" exceeds the limit of ${limit} bytes`)));
    stream.on('error', (cause: Error) => this.#fail(bodyError('ERR_INVALID_MULTIPART', `Invalid multipart/form-data: ${cause.message}`, { cause })));
    if (this.#config.storage === 'memory') {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        file.size += chunk.length;
        chunks.push(chunk);
      });
      stream.on('end', () => {
        file.buffer = Buffer.concat(chunks, file.size);
      });
      this.#records.push({ file, stream, out: null, closed: Promise.resolve() });
      return;
    }
    const path = join(this.#config.uploadDir, `keel-upload-${randomBytes(16).toString('hex')}`);
    file.path = path;
    const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    const closed = new Promise<void>((resolve) => out.once('close', resolve));
    out.on('error', (cause: Error) => this.#fail(bodyError('ERR_UPLOAD_FAILED', `Could not store an uploaded file: ${cause.message}`, { cause })));
    stream.on('data', (chunk: Buffer) => {
      file.size += chunk.length;
    });
    stream.pipe(out);
    this.#records.push({ file, stream, out, closed });
  };

  /** The first error wins: stop reading (BodyReader drains or gives up), destroy every stream. */
  #fail(err: unknown): void {
    if (this.#failure !== null) return;
    const failure = err instanceof HttpError ? err : bodyError('ERR_UPLOAD_FAILED', `Upload failed: ${(err as Error)?.message}`, { cause: err });
    this.#failure = failure;
    this.#reader.abort(failure);
    this.#rejectFailed(failure);
    for (const record of this.#records) {
      record.stream.unpipe();
      record.stream.destroy();
      record.out?.destroy();
    }
  }
}
