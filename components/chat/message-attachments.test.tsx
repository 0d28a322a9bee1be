// @vitest-environment happy-dom
import { act } from 'react';
import { afterEach, describe, expect, test } from 'vitest';
import en from '@/locales/en.json';
import { INLINE_IMAGE_TYPES } from '@/server/attachments/sniff';
import type { AttachmentView } from '@/server/contract/attachments';
import { click, render, waitUntil, type Rendered } from '@/test/dom';
import { MessageAttachments, THUMBNAIL_TYPES, formatBytes, stripShownAttachmentImages } from './message-attachments';

const t = en.chat.attachments;

const base: AttachmentView = { id: '', kind: 'file', source: 'message', file_name: null, content_type: null, size_bytes: null, state: 'pending', failure: null, url: null };
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const stored = (n: number, over: Partial<AttachmentView>): AttachmentView => ({ ...base, id: uuid(n), state: 'stored', url: `/api/workspaces/ws-1/attachments/${uuid(n)}`, ...over });

let rendered: Rendered | undefined;
afterEach(async () => {
  await rendered?.unmount();
  rendered = undefined;
});

describe('the attachments under a message', () => {
  test('an image is a lazy thumbnail named by its file that opens a viewer with the full image and a download link, closed by Escape', async () => {
    const photo = stored(1, { kind: 'image', file_name: 'whiteboard.jpg', content_type: 'image/jpeg', size_bytes: 345_000 });
    rendered = await render(<MessageAttachments attachments={[photo]} />);
    const { container } = rendered;
    expect(container.querySelector(`ul[aria-label="${t.listLabel}"]`)).not.toBeNull();
    const thumb = container.querySelector<HTMLButtonElement>('[data-testid="attachment-thumbnail"]')!;
    expect(thumb.tagName).toBe('BUTTON');
    expect(thumb.getAttribute('aria-label')).toBe('View image whiteboard.jpg');
    const img = thumb.querySelector('img')!;
    expect(img.getAttribute('alt')).toBe('whiteboard.jpg');
    expect(img.getAttribute('src')).toBe(photo.url);
    expect(img.getAttribute('loading')).toBe('lazy');
    expect(img.className).toContain('max-h-60');
    expect(document.querySelector('[data-testid="attachment-viewer"]')).toBeNull();

    await click(thumb);
    const viewer = () => document.querySelector<HTMLElement>('[data-testid="attachment-viewer"]');
    await waitUntil(() => viewer() !== null, 'the viewer');
    expect(viewer()!.getAttribute('role')).toBe('dialog');
    expect(viewer()!.textContent).toContain('whiteboard.jpg');
    expect(viewer()!.textContent).toContain('337 kB');
    expect(viewer()!.querySelector('img')?.getAttribute('src')).toBe(photo.url);
    const link = [...viewer()!.querySelectorAll('a')].find((a) => a.textContent === t.download)!;
    expect(link.getAttribute('href')).toBe(`${photo.url}?download=1`);
    expect(viewer()!.querySelector(`button[aria-label="${t.close}"]`)).not.toBeNull();

    await act(async () => {
      document.activeElement?.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    });
    await waitUntil(() => viewer() === null, 'the viewer to close');
  });

  test('a file is a download chip with an icon, its name and a human size; an image the browser would not show inline is one too', async () => {
    const report = stored(2, { kind: 'file', file_name: 'report.pdf', content_type: 'application/pdf', size_bytes: 4_404_019 });
    const vector = stored(3, { kind: 'image', file_name: 'logo.svg', content_type: 'image/svg+xml', size_bytes: 900 });
    rendered = await render(<MessageAttachments attachments={[report, vector]} />);
    const chips = [...rendered.container.querySelectorAll<HTMLAnchorElement>('[data-testid="attachment-file"]')];
    expect(chips).toHaveLength(2);
    expect(rendered.container.querySelector('[data-testid="attachment-thumbnail"]')).toBeNull();
    expect(chips[0].textContent).toBe('report.pdf4.2 MB');
    expect(chips[0].getAttribute('href')).toBe(`${report.url}?download=1`);
    expect(chips[0].getAttribute('aria-label')).toBe('Download report.pdf');
    expect(chips[0].querySelector('svg')).not.toBeNull();
    expect(chips[1].textContent).toBe('logo.svg900 bytes');
  });

  test('one still downloading says so; one that failed says why, in words', async () => {
    const waiting = { ...base, id: uuid(4), kind: 'image' as const };
    const huge = { ...base, id: uuid(5), file_name: 'dump.zip', state: 'failed' as const, failure: 'too_large' as const, size_bytes: 42 * 1024 * 1024 };
    const gone = { ...base, id: uuid(6), kind: 'video' as const, state: 'failed' as const, failure: 'not_found' as const };
    rendered = await render(<MessageAttachments attachments={[waiting, huge, gone]} />);
    const { container } = rendered;
    const pending = container.querySelector('[data-testid="attachment-pending"]')!;
    expect(pending.textContent).toBe(`${en.chat.attachments.kind.image}${t.pending}`);
    const unavailable = [...container.querySelectorAll('[data-testid="attachment-unavailable"]')].map((e) => e.textContent);
    expect(unavailable).toEqual([`dump.zipFile too large (42 MB): not downloaded`, `${en.chat.attachments.kind.video}${t.failure.not_found}`]);
    expect(container.querySelector('a')).toBeNull();
  });

  test('nothing to show, no list', async () => {
    rendered = await render(<MessageAttachments attachments={[]} />);
    expect(rendered.container.querySelector('ul')).toBeNull();
  });
});

describe('helpers', () => {
  test('thumbnails are exactly the types the download route serves inline', () => {
    expect([...THUMBNAIL_TYPES].sort()).toEqual([...INLINE_IMAGE_TYPES].sort());
  });

  test('sizes read like a file manager', () => {
    expect(formatBytes('en', 0)).toBe('0 bytes');
    expect(formatBytes('en', 1)).toBe('1 byte');
    expect(formatBytes('en', 1536)).toBe('2 kB');
    expect(formatBytes('en', 42 * 1024 * 1024)).toBe('42 MB');
    expect(formatBytes('en', 3.25 * 1024 ** 3)).toBe('3.3 GB');
  });

  test("an answer's image reference leaves its text when that image is shown below it, and only then", () => {
    const chart = stored(7, { kind: 'image' });
    const text = `Here is the chart:\n\n![Q3 revenue](attachment:${chart.id})\n\nRevenue grew.`;
    expect(stripShownAttachmentImages(text, [chart])).toBe('Here is the chart:\n\nRevenue grew.');
    expect(stripShownAttachmentImages(`![x](attachment:${chart.id.toUpperCase()})`, [chart])).toBe('');
    const other = `See ![other](attachment:${uuid(99)}) and ![web](https://example.com/a.png)`;
    expect(stripShownAttachmentImages(other, [chart])).toBe(other);
  });
});
