// The opt-in directory listing: an HTML page naming a directory's entries, each name HTML-escaped
// and each link percent-encoded and relative ("./name"), so no file name can inject markup or
// turn into another URL scheme. Dotfiles are shown only when they are served.

import { readdir } from 'node:fs/promises';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const escaped = ESCAPES[text[i]];
    if (escaped === undefined) continue;
    out += text.slice(last, i) + escaped;
    last = i + 1;
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * The listing page of the directory at `dirPath`, requested as `urlPath` (decoded, ending in "/").
 * Entries are sorted by name (code unit order); directories get a trailing "/"; "../" is listed
 * except at the root. Dotfiles appear only when `showDotfiles`.
 */
export async function renderDirectoryListing(dirPath: string, urlPath: string, showDotfiles: boolean): Promise<string> {
  const entries = await readdir(dirPath, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (!showDotfiles && entry.name.charCodeAt(0) === 0x2e) continue;
    names.push(entry.isDirectory() ? `${entry.name}/` : entry.name);
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const title = `Index of ${escapeHtml(urlPath)}`;
  let items = urlPath === '/' ? '' : '<li><a href="../">../</a></li>\n';
  for (const name of names) {
    const isDirectory = name.endsWith('/');
    const bare = isDirectory ? name.slice(0, -1) : name;
    const href = `./${encodeURIComponent(bare)}${isDirectory ? '/' : ''}`;
    items += `<li><a href="${escapeHtml(href)}">${escapeHtml(name)}</a></li>\n`;
  }
  return `<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>${title}</title>\n</head>\n<body>\n<h1>${title}</h1>\n<ul>\n${items}</ul>\n</body>\n</html>\n`;
}
