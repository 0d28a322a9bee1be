import { fileTypeFromBuffer } from 'file-type';

const TEXT_TYPES: Record<string, string> = {
  md: 'text/markdown',
  markdown: 'text/markdown',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
  html: 'text/html',
  htm: 'text/html',
  xml: 'application/xml',
  svg: 'image/svg+xml',
  yaml: 'application/yaml',
  yml: 'application/yaml',
};

function extensionOf(fileName: string | null): string {
  const match = fileName ? /\.([A-Za-z0-9]{1,10})$/.exec(fileName) : null;
  return match ? match[1].toLowerCase() : '';
}

/** Valid UTF-8 without NUL bytes in its first 8 KiB: text, whatever its name says. */
function looksLikeText(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 8192);
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.length < bytes.length ? trimPartialCharacter(head) : head);
    return true;
  } catch {
    return false;
  }
}

// A cut in the middle of a multi-byte character is not a reason to call the file binary.
function trimPartialCharacter(head: Buffer): Buffer {
  const end = head.length;
  for (let i = 1; i <= 3 && end - i >= 0; i++) {
    const byte = head[end - i];
    if ((byte & 0xc0) === 0xc0) return head.subarray(0, end - i);
    if ((byte & 0x80) === 0) break;
  }
  return head;
}

/**
 * The real content type of some bytes: their magic numbers first, then whether they are text (and
 * then the name's extension only picks which text), else octet-stream. What a sender claimed is
 * never used.
 */
export async function sniffContentType(bytes: Buffer, fileName: string | null): Promise<string> {
  if (bytes.length === 0) return 'application/octet-stream';
  const detected = await fileTypeFromBuffer(bytes);
  if (detected) return detected.mime;
  if (looksLikeText(bytes)) return TEXT_TYPES[extensionOf(fileName)] ?? 'text/plain';
  return 'application/octet-stream';
}

/** Images a browser may show inline and a vision model may read: raster formats only (no SVG). */
export const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** Text an agent can read inline (not HTML or SVG, which are served as downloads only anyway). */
export function isReadableText(contentType: string): boolean {
  return contentType.startsWith('text/') || contentType === 'application/json' || contentType === 'application/xml' || contentType === 'application/yaml';
}
