import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reply } from './http';
import { attachmentDisposition, blobStream } from './media';
import type { Directory } from './state';

const uiDir = fileURLToPath(new URL('./ui/', import.meta.url));
// marked ships an ES module the browser can import as is: no bundler, no CDN.
const markedFile = createRequire(import.meta.url).resolve('marked');

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

async function serveFile(file: string): Promise<Reply | undefined> {
  try {
    const body = await readFile(file);
    return {
      status: 200,
      body,
      headers: { 'content-type': contentTypes[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' },
    };
  } catch {
    return undefined;
  }
}

/** A stored image or file for the page (`/ui/media/<key>`): images inline, files as downloads. */
function serveMedia(dir: Directory, key: string): Reply | undefined {
  const blob = dir.media.get(key);
  if (!blob) return undefined;
  const inline = blob.kind !== 'file' || blob.contentType.startsWith('image/');
  return {
    status: 200,
    stream: blobStream(blob),
    headers: {
      'content-type': blob.contentType,
      'content-length': String(blob.size),
      'cache-control': 'private, max-age=3600',
      'x-content-type-options': 'nosniff',
      ...(inline ? {} : { 'content-disposition': attachmentDisposition(blob.fileName ?? key) }),
    },
  };
}

/**
 * The web UI: `/`, `/approve`, a bot's console page at `/app/<app_id>` under each brand root (where
 * open.feishu.cn/app/<app_id> and open.larksuite.com/app/<app_id> would be), a chat opened by link at
 * `/client/chat/open?openChatId=…` (where Lark's AppLink would open it), the assets under `/ui/`
 * and the images and files of messages under `/ui/media/`. Undefined when the path is not the UI's.
 */
export async function handleUi(method: string, pathname: string, dir: Directory): Promise<Reply | undefined> {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const media = /^\/ui\/media\/([A-Za-z0-9_-]+)$/.exec(pathname);
  if (media) return serveMedia(dir, media[1]);
  if (pathname === '/') return serveFile(path.join(uiDir, 'index.html'));
  if (pathname === '/favicon.ico') return { status: 204 };
  if (pathname === '/approve') return serveFile(path.join(uiDir, 'approve.html'));
  if (/^(?:\/(?:feishu|lark))?\/app\/[^/]+\/?$/.test(pathname)) return serveFile(path.join(uiDir, 'bot.html'));
  // Where applink.feishu.cn / applink.larksuite.com open a chat: the simulator's own chat view.
  if (/^(?:\/(?:feishu|lark))?\/client\/chat\/open\/?$/.test(pathname)) return serveFile(path.join(uiDir, 'index.html'));
  if (pathname === '/ui/vendor/marked.js') return serveFile(markedFile);
  const asset = /^\/ui\/([a-z0-9-]+\.(?:js|css|svg))$/.exec(pathname);
  return asset ? serveFile(path.join(uiDir, asset[1])) : undefined;
}
