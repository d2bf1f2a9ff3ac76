// Preloaded with `node --import` by run.js when Jazzer's prebuilt addon needs the glibc patch
// (jazzer-glibc.js): makes Node dlopen the patched copy whenever the original is required.
// @jazzer.js/fuzzer requires a fixed path (dist/addon.js), and Node's loader calls process.dlopen
// for every .node file, so wrapping process.dlopen is enough. Paths come from the environment:
//   KEEL_JAZZER_ADDON_ORIGINAL  the path @jazzer.js/fuzzer requires
//   KEEL_JAZZER_ADDON_PATCHED   the copy to load instead

import { resolve } from 'node:path';

const original = process.env.KEEL_JAZZER_ADDON_ORIGINAL;
const patched = process.env.KEEL_JAZZER_ADDON_PATCHED;

if (original && patched) {
  const dlopen = process.dlopen;
  process.dlopen = function redirectedDlopen(module, filename, ...rest) {
    return dlopen.call(this, module, resolve(filename) === resolve(original) ? patched : filename, ...rest);
  };
}
