// Byte sizes as options: a number of bytes, or a string such as '512kb', '1mb', '1.5 MiB', '100b'.
// Units are binary (kb = KiB = 1024 bytes), as the `bytes` package that body-parser uses; anything
// else is a TypeError thrown when the options are read, never at request time.

const UNIT_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1024, kib: 1024, k: 1024,
  mb: 1024 ** 2, mib: 1024 ** 2, m: 1024 ** 2,
  gb: 1024 ** 3, gib: 1024 ** 3, g: 1024 ** 3,
};

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

/**
 * Bytes in `value`: a non-negative integer, Infinity, or '<number><unit>' with unit b, kb/kib/k,
 * mb/mib/m, gb/gib/g (case-insensitive, binary), rounded down. Throws a TypeError with code
 * ERR_INVALID_ARG_VALUE for anything else. `name` is the option's name, for the message.
 */
export function parseByteSize(value: number | string, name = 'limit'): number {
  if (typeof value === 'number') {
    if (value === Infinity || (Number.isInteger(value) && value >= 0)) return value;
  } else if (typeof value === 'string') {
    const match = SIZE.exec(value);
    const unit = match === null ? undefined : UNIT_BYTES[(match[2] || 'b').toLowerCase()];
    if (match !== null && unit !== undefined) return Math.floor(Number(match[1]) * unit);
  }
  const err = new TypeError(`The option '${name}' must be a byte count or a size such as '1mb'. Received ${String(value)}`) as TypeError & { code: string };
  err.code = 'ERR_INVALID_ARG_VALUE';
  throw err;
}
