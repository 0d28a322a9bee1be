import type { ChatTurn, RunFile } from './types';

/** 1234567 -> "1.2 MB": sizes as people read them. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const KIND_WORDS: Record<RunFile['kind'], string> = { image: 'image', file: 'file', audio: 'audio message', video: 'video', sticker: 'sticker' };

/** One line naming a file for the agent: kind, name, type and size, and why it has no content when it has none. */
export function describeFile(file: RunFile): string {
  const facts = [file.contentType, file.sizeBytes !== null ? formatBytes(file.sizeBytes) : null].filter(Boolean).join(', ');
  const name = file.name ? `"${file.name}"` : '';
  const head = [KIND_WORDS[file.kind], name].filter(Boolean).join(' ') + (facts ? ` (${facts})` : '');
  if (file.unavailable) return `[${head}: not available, ${file.unavailable}]`;
  if (file.shown) return `[${head}: shown as an image]`;
  if (file.text !== undefined) return `[${head}]`;
  return `[${head}: content not included]`;
}

/**
 * A turn as one text for a model: the context around it first, then what the person wrote, then
 * what came with it (inlined text files between clear delimiters, everything else described).
 */
export function turnText(turn: ChatTurn): string {
  const pieces: string[] = [];
  if (turn.context) pieces.push(turn.context);
  if (turn.content) pieces.push(turn.content);
  for (const file of turn.files ?? []) {
    if (file.text !== undefined) {
      const label = file.name ?? 'file';
      pieces.push(`<file name="${label.replace(/"/g, "'")}">\n${file.text}${file.truncated ? '\n[truncated]' : ''}\n</file>`);
    } else {
      pieces.push(describeFile(file));
    }
  }
  return pieces.join('\n\n');
}
