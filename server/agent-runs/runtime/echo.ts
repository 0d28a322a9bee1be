import { ECHO_MAX_DELAY_MS, ECHO_MAX_WORD_DELAY_MS } from '../../contract/agents';
import { deflateSync, crc32 } from 'node:zlib';
import { describeFile, formatBytes } from './turn-text';
import type { AgentFile, AgentRuntime, ChatTurn } from './types';

/** The delay an echo agent's stored config asks for; anything unreadable means none, a row written by hand is capped. */
export function echoDelayOf(config: unknown): number {
  const value = (config as { delayMs?: unknown } | null)?.delayMs;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(ECHO_MAX_DELAY_MS, Math.floor(value));
}

/** The pause between streamed words an echo agent's stored config asks for; capped like the delay. */
export function echoWordDelayOf(config: unknown): number {
  const value = (config as { wordDelayMs?: unknown } | null)?.wordDelayMs;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(ECHO_MAX_WORD_DELAY_MS, Math.floor(value));
}

/** Resolves after `ms`; rejects with the signal's reason as soon as it aborts. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** What the echo agent was given besides the words: its files, images and context, one line each. */
function receipt(turn: ChatTurn | undefined): string[] {
  if (!turn) return [];
  const lines: string[] = [];
  for (const file of turn.files ?? []) {
    if (file.shown) lines.push(`I see ${describeFile(file).slice(1, -1).replace(/: shown as an image$/, '')}.`);
    else if (file.text !== undefined) {
      const start = file.text.replace(/\s+/g, ' ').trim().slice(0, 80);
      lines.push(`I read ${file.name ?? 'a file'} (${file.contentType ?? 'text'}, ${formatBytes(file.sizeBytes ?? 0)}): "${start}"${file.truncated ? ' (truncated)' : ''}.`);
    } else lines.push(`I got ${describeFile(file).slice(1, -1)}.`);
  }
  if (turn.context) {
    const quoted = /<quoted_message from="([^"]*)"/.exec(turn.context);
    const recent = /<recent_messages [^>]*count="(\d+)"/.exec(turn.context);
    const forwarded = /<forwarded_messages count="(\d+)"/.exec(turn.context);
    const parts = [
      quoted && `the quoted message from ${quoted[1]}`,
      forwarded && `${forwarded[1]} forwarded messages`,
      recent && `${recent[1]} recent messages`,
    ].filter(Boolean);
    if (parts.length > 0) lines.push(`Context: ${parts.join('; ')}.`);
  }
  return lines;
}

/** A small PNG drawn here (bars of a chart), so the image path needs no file on disk. */
export function echoChartPng(): Buffer {
  const width = 48;
  const height = 32;
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const bar = Math.floor(x / 12);
      const barTop = height - 8 - bar * 6;
      const inBar = x % 12 > 2 && y >= barTop;
      const offset = y * (width * 3 + 1) + 1 + x * 3;
      raw[offset] = inBar ? 40 + bar * 50 : 250;
      raw[offset + 1] = inBar ? 110 : 250;
      raw[offset + 2] = inBar ? 200 - bar * 40 : 250;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** The largest file the echo agent makes on request (Lark's own limit for user files). */
const ECHO_MAX_FILE_MB = 100;

function requestedFile(last: string): AgentFile | null {
  const match = /\b(\d+(?:\.\d+)?)\s*MB file\b/i.exec(last);
  if (!match) return null;
  const mb = Math.min(ECHO_MAX_FILE_MB, Number(match[1]));
  const data = Buffer.alloc(Math.round(mb * 1024 * 1024), 0x2e);
  data.write('Larkspur echo file\n', 0, 'ascii');
  return { name: `echo-${match[1]}mb.bin`, data };
}

function answer(agentName: string, last: string): string {
  const quoted = `You said: "${last}"`;
  if (/\b(draw|chart)\b/i.test(last)) {
    return `${quoted}\n\nHere is a chart:\n\n![chart](data:image/png;base64,${echoChartPng().toString('base64')})`;
  }
  if (/\bcode\b/i.test(last)) {
    return `${quoted}\n\nHere it is as code:\n\n\`\`\`text\n${last}\n\`\`\``;
  }
  if (/\b(list|markdown)\b/i.test(last)) {
    const words = last.split(/\s+/).filter(Boolean).slice(0, 5);
    return `${quoted}\n\n**${agentName}** broke it down:\n\n${words.map((w) => `- ${w}`).join('\n')}`;
  }
  return quoted;
}

/**
 * A deterministic runtime for demos, tests and load runs: it quotes the last message, says what else
 * it was given (files, images, context), shows the markdown path when asked for a list or code, draws
 * a chart image when asked to draw, and makes an N MB file when asked for one. `delayMs` stands in for a model's latency before its
 * first word; the answer then streams word by word, `wordDelayMs` apart.
 */
export function echoRuntime(delayMs = 0, wordDelayMs = 0): AgentRuntime {
  return {
    async run({ agentName, history, signal, onText }) {
      if (delayMs > 0) await wait(delayMs, signal);
      const turn = [...history].reverse().find((t) => t.role === 'user');
      const last = turn?.content ?? '';
      const received = receipt(turn);
      // A message that is only an image or a file is answered by what came with it.
      const full = (last || received.length === 0 ? [answer(agentName, last), ...received] : received).join('\n\n');
      const file = requestedFile(last);
      if (onText) {
        // Words with the whitespace before them, so every prefix is the answer as far as it goes.
        const words = full.match(/\s*\S+/g) ?? [];
        let sofar = '';
        for (const word of words) {
          if (wordDelayMs > 0 && sofar.length > 0) await wait(wordDelayMs, signal);
          sofar += word;
          onText(sofar);
        }
      }
      return file ? { text: full, files: [file] } : full;
    },
  };
}
