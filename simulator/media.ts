import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { randomHex } from './ids';
import type { Directory, MediaBlob, Party } from './state';

// Stored images and files: keys, what bytes they hold, how they are read back.

/** Lark image keys look like `img_v3_02ab_<uuid>g`, file keys `file_v3_00ab_<uuid>g`. */
export const newImageKey = () => `img_v3_02${randomHex(2)}_${randomUUID()}g`;
export const newFileKey = () => `file_v3_00${randomHex(2)}_${randomUUID()}g`;

export const imageUploadMaxBytes = 10 * 1024 * 1024;
export const fileUploadMaxBytes = 30 * 1024 * 1024;
/** The message resource endpoint serves files up to this size. */
export const resourceDownloadMaxBytes = 100 * 1024 * 1024;

export const fileTypes = ['opus', 'mp4', 'pdf', 'doc', 'xls', 'ppt', 'stream'] as const;
export type FileType = (typeof fileTypes)[number];

export type ImageFormat = { format: 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'tiff' | 'ico'; contentType: string };

const imageSignatures: Array<{ test: (b: Buffer) => boolean } & ImageFormat> = [
  { format: 'png', contentType: 'image/png', test: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { format: 'jpeg', contentType: 'image/jpeg', test: (b) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { format: 'gif', contentType: 'image/gif', test: (b) => ['GIF87a', 'GIF89a'].includes(b.subarray(0, 6).toString('latin1')) },
  { format: 'webp', contentType: 'image/webp', test: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
  { format: 'bmp', contentType: 'image/bmp', test: (b) => b.subarray(0, 2).toString('latin1') === 'BM' && b.length >= 26 },
  {
    format: 'tiff',
    contentType: 'image/tiff',
    test: (b) => b.subarray(0, 4).equals(Buffer.from([0x49, 0x49, 0x2a, 0x00])) || b.subarray(0, 4).equals(Buffer.from([0x4d, 0x4d, 0x00, 0x2a])),
  },
  { format: 'ico', contentType: 'image/x-icon', test: (b) => b.length >= 6 && b.readUInt32BE(0) === 0x00000100 && b.readUInt16LE(4) > 0 },
];

/** The image format by its magic bytes, or undefined when the bytes are no image Lark takes. */
export function sniffImage(bytes: Buffer): ImageFormat | undefined {
  const hit = imageSignatures.find((s) => s.test(bytes));
  return hit ? { format: hit.format, contentType: hit.contentType } : undefined;
}

/** Width and height where the header tells them cheaply (png, gif, bmp, jpeg, webp); else undefined. */
export function imageSize(bytes: Buffer, format: ImageFormat['format']): { width: number; height: number } | undefined {
  try {
    switch (format) {
      case 'png':
        return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
      case 'gif':
        return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
      case 'bmp':
        return { width: Math.abs(bytes.readInt32LE(18)), height: Math.abs(bytes.readInt32LE(22)) };
      case 'webp': {
        const chunk = bytes.subarray(12, 16).toString('latin1');
        if (chunk === 'VP8X') return { width: bytes.readUIntLE(24, 3) + 1, height: bytes.readUIntLE(27, 3) + 1 };
        if (chunk === 'VP8L') {
          const bits = bytes.readUInt32LE(21);
          return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
        }
        if (chunk === 'VP8 ') return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
        return undefined;
      }
      case 'jpeg': {
        // Walk the markers to the first start-of-frame.
        let at = 2;
        while (at + 9 < bytes.length) {
          if (bytes[at] !== 0xff) return undefined;
          const marker = bytes[at + 1];
          if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
            return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7) };
          }
          at += 2 + bytes.readUInt16BE(at + 2);
        }
        return undefined;
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

const extensionTypes: Record<string, string> = {
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  opus: 'audio/ogg',
  ogg: 'audio/ogg',
  mp4: 'video/mp4',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  zip: 'application/zip',
};

/** A file's content type: its bytes first (images, pdf, ogg, mp4), then its name's extension. */
export function fileContentType(bytes: Buffer | undefined, fileName: string): string {
  if (bytes) {
    const image = sniffImage(bytes);
    if (image) return image.contentType;
    if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'application/pdf';
    if (bytes.subarray(0, 4).toString('latin1') === 'OggS') return 'audio/ogg';
    if (bytes.subarray(4, 8).toString('latin1') === 'ftyp') return 'video/mp4';
  }
  const ext = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase();
  return (ext && extensionTypes[ext]) ?? 'application/octet-stream';
}

/** What an uploaded file must look like for its declared `file_type` (opus, mp4 and pdf are checked). */
export function fileMatchesType(bytes: Buffer, fileType: FileType): boolean {
  switch (fileType) {
    case 'opus':
      return bytes.subarray(0, 4).toString('latin1') === 'OggS';
    case 'mp4':
      return bytes.subarray(4, 8).toString('latin1') === 'ftyp';
    case 'pdf':
      return bytes.subarray(0, 5).toString('latin1') === '%PDF-';
    default:
      return true;
  }
}

// --- filler files: any size, produced on read ------------------------------------------------

const fillerLine = (n: number) => `Lark simulator filler line ${String(n).padStart(9, '0')}\n`;
const fillerLineBytes = fillerLine(0).length;

/** A deterministic text filler of exactly `size` bytes, streamed in chunks (never held whole). */
export function fillerStream(size: number): Readable {
  const linesPerChunk = 2048;
  let produced = 0;
  let line = 0;
  return new Readable({
    read() {
      if (produced >= size) {
        this.push(null);
        return;
      }
      let text = '';
      for (let i = 0; i < linesPerChunk; i++) text += fillerLine(line++);
      const chunk = Buffer.from(text, 'latin1').subarray(0, Math.min(text.length, size - produced));
      produced += chunk.length;
      this.push(chunk);
    },
  });
}

/** The first bytes of a filler (for sniffing and previews) without producing the rest. */
export function fillerHead(size: number, bytes = 64): Buffer {
  const lines = Math.ceil(Math.min(size, bytes) / fillerLineBytes);
  let text = '';
  for (let i = 0; i < lines; i++) text += fillerLine(i);
  return Buffer.from(text, 'latin1').subarray(0, Math.min(size, bytes));
}

/** A blob's bytes as a stream: stored bytes, or the generated filler. */
export function blobStream(blob: MediaBlob): Readable {
  return blob.data ? Readable.from([blob.data]) : fillerStream(blob.size);
}

// --- the store --------------------------------------------------------------------------------

export type BlobInput = Omit<MediaBlob, 'key' | 'createdAt' | 'size'> & { size?: number };

/** A new blob with its key (images `img_v3_...`, files and stickers `file_v3_...`), not yet stored. */
export function makeBlob(input: BlobInput): MediaBlob {
  return { ...input, key: input.kind === 'image' ? newImageKey() : newFileKey(), size: input.size ?? input.data?.length ?? 0, createdAt: Date.now() };
}

export function storeBlob(dir: Directory, input: BlobInput): MediaBlob {
  const blob = makeBlob(input);
  dir.media.set(blob.key, blob);
  return blob;
}

/** The blobs an app uploaded: what its messages and cards may name. */
export type OwnMedia = (key: string) => MediaBlob | undefined;

export function ownMedia(dir: Directory, appId: string): OwnMedia {
  return (key) => {
    const blob = dir.media.get(key);
    return blob && blob.owner.type === 'app' && blob.owner.id === appId ? blob : undefined;
  };
}

export const isOwner = (blob: MediaBlob, party: Party) => blob.owner.type === party.type && blob.owner.id === party.id;

// --- multipart/form-data ----------------------------------------------------------------------

export type FormPart = { name: string; filename?: string; contentType?: string; data: Buffer };

/**
 * Parses a multipart/form-data body into its parts, bytes untouched (a part without a filename
 * may still be binary: the official SDK sends Buffers that way). Undefined when it is not one.
 */
export function parseMultipart(contentType: string | undefined, body: Buffer): FormPart[] | undefined {
  const boundary = /^multipart\/form-data\s*;.*?boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? '');
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: FormPart[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) return undefined;
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString('latin1') === '--') return parts;
    if (body.subarray(at, at + 2).toString('latin1') !== '\r\n') return undefined;
    const headerEnd = body.indexOf('\r\n\r\n', at + 2);
    if (headerEnd < 0) return undefined;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) return undefined;
    const headers = body.subarray(at + 2, headerEnd).toString('utf8').split('\r\n');
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) return undefined;
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    const type = headers.find((h) => /^content-type:/i.test(h))?.replace(/^content-type:\s*/i, '');
    parts.push({ name, ...(filename !== undefined ? { filename } : {}), ...(type ? { contentType: type } : {}), data: body.subarray(headerEnd + 4, next) });
    at = next + 2;
  }
}

/** `Content-Disposition` naming a file, with an ASCII fallback and the UTF-8 name. */
export function attachmentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

// --- what a message holds ---------------------------------------------------------------------

export type ResourceRef = { key: string; type: 'image' | 'file' };

function parsedContent(content: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(content);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The downloadable resources of a message, with the `type` the resource endpoint wants for each:
 * an image message's image, a file's or audio's file, a video's file and cover, a post's images
 * and videos. Stickers, cards and merge_forwards hold none.
 */
export function resourcesOf(message: { msgType: string; content: string }): ResourceRef[] {
  const content = parsedContent(message.content);
  if (!content) return [];
  const refs: ResourceRef[] = [];
  const add = (key: unknown, type: ResourceRef['type']) => {
    if (typeof key === 'string' && key !== '') refs.push({ key, type });
  };
  switch (message.msgType) {
    case 'image':
      add(content.image_key, 'image');
      break;
    case 'file':
    case 'audio':
      add(content.file_key, 'file');
      break;
    case 'media':
      add(content.file_key, 'file');
      add(content.image_key, 'image');
      break;
    case 'post': {
      // A user's post arrives without a locale wrapper; a bot's is keyed by locale.
      const bodies = Array.isArray(content.content) ? [content] : Object.values(content);
      for (const body of bodies) {
        const paragraphs = (body as { content?: unknown }).content;
        for (const paragraph of Array.isArray(paragraphs) ? paragraphs : []) {
          for (const node of Array.isArray(paragraph) ? (paragraph as Array<Record<string, unknown>>) : []) {
            if (node?.tag === 'img') add(node.image_key, 'image');
            if (node?.tag === 'media') {
              add(node.file_key, 'file');
              add(node.image_key, 'image');
            }
          }
        }
      }
      break;
    }
  }
  return refs;
}
