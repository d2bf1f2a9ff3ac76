// Make Jazzer.js 4.0.0's prebuilt libFuzzer addon load on glibc 2.36 / libstdc++ 6.0.30 (Debian 12).
//
// node_modules/@jazzer.js/fuzzer/prebuilds/fuzzer-linux-x64.node was linked against glibc 2.38 and
// GCC 13's libstdc++. Three of its imports do not exist here, and dlopen fails with
// "version `GLIBC_2.38' not found" (ERR_DLOPEN_FAILED):
//
//   __isoc23_strtol@GLIBC_2.38, __isoc23_strtoul@GLIBC_2.38
//     The C23 strtol/strtoul. They differ from the C11 ones only in accepting a "0b"/"0B" prefix
//     when base is 0 or 2. The addon's three call sites (libFuzzer's flag parsing and its
//     dictionary "\xHH" escapes; checked with objdump -d) all pass base 10 or 16, where the two are
//     identical. So the symbols are rebound to strtol@GLIBC_2.2.5 / strtoul@GLIBC_2.2.5.
//   _ZSt21ios_base_library_initv@GLIBCXX_3.4.32 (std::ios_base_library_init)
//     GCC 13's <iostream> references it only to pull in the library's stream initialisation. No
//     relocation uses it (it is never called or resolved); Node links libstdc++ dynamically and
//     constructs std::ios_base::Init itself, so std::cout/cerr are initialised before the addon loads.
//
// The fix, applied to a COPY of the addon (node_modules is left untouched):
//   1. each __isoc23_* dynamic symbol's st_name is pointed at its own tail ("__isoc23_strtol\0"
//      ends with "strtol\0"), so .dynstr is not rewritten and no other string can be disturbed;
//   2. its .gnu.version entry is set to the version index of libc.so.6's GLIBC_2.2.5 requirement;
//   3. the GLIBC_2.38 and GLIBCXX_3.4.32 requirements (.gnu.version_r vernaux entries) are marked
//      VER_FLG_WEAK, so ld.so accepts them being absent (glibc elf/dl-version.c: a missing weak
//      version is not an error).
// Afterwards no relocation may reference a symbol of a weakened version (checked), and the copy
// must dlopen in a child process (checked). test/fuzz/coverage/jazzer-addon-redirect.js then makes
// Node load the copy instead of the original (run.js passes it with --import).
//
// Idempotent: the original is only patched when it fails to load; the copy is rebuilt only when
// the original's SHA-256 changed; patching an already patched image changes nothing.
//
//   node test/fuzz/coverage/jazzer-glibc.js      prints which addon Jazzer will load

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The addon @jazzer.js/fuzzer requires (dist/addon.js: prebuilds/fuzzer-<platform>-<arch>.node). */
export const ORIGINAL_ADDON = join(dirname(require.resolve('@jazzer.js/fuzzer/package.json')), 'prebuilds',
  `fuzzer-${process.platform}-${process.arch}.node`);

export const WORK_DIR = fileURLToPath(new URL('./.work/', import.meta.url));
export const PATCHED_ADDON = join(WORK_DIR, 'addon', `fuzzer-${process.platform}-${process.arch}.node`);

/** Imports rebound to their pre-C23 names in libc.so.6, version GLIBC_2.2.5. */
const REBIND = [
  { from: '__isoc23_strtol', to: 'strtol' },
  { from: '__isoc23_strtoul', to: 'strtoul' },
];
const REBIND_LIBRARY = 'libc.so.6';
const REBIND_VERSION = 'GLIBC_2.2.5';
/** Version requirements made weak (absent on this system, unused once the imports above are rebound). */
const WEAKEN = ['GLIBC_2.38', 'GLIBCXX_3.4.32'];

// ELF constants (System V gABI, GNU symbol versioning).
const SHT_RELA = 4;
const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;
const VER_FLG_WEAK = 0x2;
const VERSYM_HIDDEN = 0x8000;

/** The NUL-terminated string at `offset`. */
function cString(buf, offset) {
  const end = buf.indexOf(0, offset);
  return buf.toString('latin1', offset, end);
}

/** Section headers of a little-endian ELF64 image: { name, type, offset, size, link, entsize }. */
function sections(buf) {
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) throw new Error('not a little-endian ELF64 file');
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const list = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * shentsize;
    list.push({
      nameOffset: buf.readUInt32LE(h),
      type: buf.readUInt32LE(h + 4),
      offset: Number(buf.readBigUInt64LE(h + 24)),
      size: Number(buf.readBigUInt64LE(h + 32)),
      link: buf.readUInt32LE(h + 40),
      entsize: Number(buf.readBigUInt64LE(h + 56)),
    });
  }
  for (const s of list) s.name = cString(buf, list[shstrndx].offset + s.nameOffset);
  return list;
}

/** Each vernaux of .gnu.version_r: { file, name, index (vna_other), flagsAt (file offset of vna_flags) }. */
function versionNeeds(buf, verneed, dynstr) {
  const out = [];
  let vn = verneed.offset;
  for (;;) {
    const cnt = buf.readUInt16LE(vn + 2);
    const file = cString(buf, dynstr.offset + buf.readUInt32LE(vn + 4));
    let aux = vn + buf.readUInt32LE(vn + 8);
    for (let k = 0; k < cnt; k++) {
      out.push({
        file,
        name: cString(buf, dynstr.offset + buf.readUInt32LE(aux + 8)),
        index: buf.readUInt16LE(aux + 6),
        flagsAt: aux + 4,
      });
      const next = buf.readUInt32LE(aux + 12);
      if (next === 0) break;
      aux += next;
    }
    const next = buf.readUInt32LE(vn + 12);
    if (next === 0) return out;
    vn += next;
  }
}

/**
 * Patch a copy of the ELF image `input` as described at the top of this file. Returns
 * { buf, changes } (changes: human-readable list, empty when the image needed nothing).
 */
export function patchAddon(input) {
  const buf = Buffer.from(input);
  const secs = sections(buf);
  const dynsym = secs.find((s) => s.type === SHT_DYNSYM);
  const versym = secs.find((s) => s.type === SHT_GNU_VERSYM);
  const verneed = secs.find((s) => s.type === SHT_GNU_VERNEED);
  if (!dynsym || !versym || !verneed) throw new Error('no .dynsym / .gnu.version / .gnu.version_r section');
  const dynstr = secs[dynsym.link];
  const needs = versionNeeds(buf, verneed, dynstr);
  const changes = [];

  const target = needs.find((n) => n.file === REBIND_LIBRARY && n.name === REBIND_VERSION);
  const count = dynsym.size / dynsym.entsize;
  for (let i = 0; i < count; i++) {
    const sym = dynsym.offset + i * dynsym.entsize;
    const nameOffset = buf.readUInt32LE(sym);
    const name = cString(buf, dynstr.offset + nameOffset);
    const rule = REBIND.find((r) => r.from === name);
    if (!rule) continue;
    if (!target) throw new Error(`the addon has no ${REBIND_LIBRARY} ${REBIND_VERSION} requirement to rebind ${name} to`);
    if (!name.endsWith(rule.to)) throw new Error(`${name} does not end with ${rule.to}`);
    buf.writeUInt32LE(nameOffset + name.length - rule.to.length, sym); // st_name → the tail "strtol\0"
    buf.writeUInt16LE(target.index, versym.offset + 2 * i);
    changes.push(`${name} → ${rule.to}@${REBIND_VERSION} (version index ${target.index})`);
  }

  const weakened = new Set();
  for (const n of needs) {
    if (!WEAKEN.includes(n.name)) continue;
    weakened.add(n.index);
    const flags = buf.readUInt16LE(n.flagsAt);
    if ((flags & VER_FLG_WEAK) === 0) {
      buf.writeUInt16LE(flags | VER_FLG_WEAK, n.flagsAt);
      changes.push(`${n.file} ${n.name} requirement marked weak`);
    }
  }

  // No relocation may still need a symbol of a weakened version: it would fail to resolve.
  for (const rela of secs.filter((s) => s.type === SHT_RELA && secs[s.link] === dynsym)) {
    for (let r = rela.offset; r < rela.offset + rela.size; r += rela.entsize) {
      const symIndex = Number(buf.readBigUInt64LE(r + 8) >> 32n);
      const version = buf.readUInt16LE(versym.offset + 2 * symIndex) & ~VERSYM_HIDDEN;
      if (symIndex !== 0 && weakened.has(version)) {
        const name = cString(buf, dynstr.offset + buf.readUInt32LE(dynsym.offset + symIndex * dynsym.entsize));
        throw new Error(`relocation in ${rela.name} still needs ${name} of a weakened version`);
      }
    }
  }
  return { buf, changes };
}

/** Whether `file` dlopens in a fresh Node process; { ok, error }. */
export function canLoad(file) {
  const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1])', file], { encoding: 'utf8' });
  const error = (r.stderr.match(/^Error: .*$/m) ?? [r.stderr.trim()])[0];
  return { ok: r.status === 0, error };
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/**
 * The addon Jazzer should load: { path, patched, changes }. The original when it loads as is;
 * else the patched copy in the work dir (rebuilt when the original changed), verified to load.
 * Throws when neither loads.
 */
export function ensureJazzerAddon() {
  const original = canLoad(ORIGINAL_ADDON);
  if (original.ok) return { path: ORIGINAL_ADDON, patched: false, changes: [] };

  const source = readFileSync(ORIGINAL_ADDON);
  const stamp = `${PATCHED_ADDON}.source-sha256`;
  const hash = sha256(source);
  let changes = [];
  if (!existsSync(PATCHED_ADDON) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== hash) {
    const result = patchAddon(source);
    changes = result.changes;
    mkdirSync(dirname(PATCHED_ADDON), { recursive: true });
    writeFileSync(PATCHED_ADDON, result.buf);
    writeFileSync(stamp, hash);
  }
  const patched = canLoad(PATCHED_ADDON);
  if (!patched.ok) {
    throw new Error(`Jazzer's addon does not load (${original.error}), nor does the patched copy ${PATCHED_ADDON} (${patched.error})`);
  }
  return { path: PATCHED_ADDON, patched: true, changes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const addon = ensureJazzerAddon();
  console.log(addon.patched ? `patched copy: ${addon.path}` : `original loads as is: ${addon.path}`);
  for (const c of addon.changes) console.log(`  ${c}`);
}
