'use client';

import { Download, File, FileAudio, FileVideo, Image as ImageIcon, Loader2, Smile, TriangleAlert, type LucideIcon } from 'lucide-react';
import { useLocale, useTranslations } from 'next-intl';
import { Button } from '@/components/ui/button';
import { Dialog, DialogContent, DialogTitle, DialogTrigger } from '@/components/ui/dialog';
import type { AttachmentKind, AttachmentView } from '@/server/contract/attachments';
import { cn } from '@/lib/utils';

/**
 * Image types the download route serves inline (server/attachments/sniff.ts INLINE_IMAGE_TYPES):
 * anything else would arrive as a download, so it gets a file chip instead of a thumbnail.
 */
export const THUMBNAIL_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

const KIND_ICONS: Record<AttachmentKind, LucideIcon> = {
  image: ImageIcon,
  file: File,
  audio: FileAudio,
  video: FileVideo,
  sticker: Smile,
};

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;

/** A size the way people read it: 930 bytes, 12 kB, 4.2 MB (powers of 1024, like file managers; "900 byte" is CLDR's short form). */
export function formatBytes(locale: string, bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return new Intl.NumberFormat(locale, { style: 'unit', unit: UNITS[unit], unitDisplay: unit === 0 ? 'long' : 'short', maximumFractionDigits: unit >= 2 ? 1 : 0 }).format(value);
}

const ATTACHMENT_IMAGE = /!\[[^\]\n]*\]\(attachment:([0-9a-fA-F-]{36})\)/g;

/**
 * An answer refers to its own images as `![alt](attachment:<id>)`; where the image is shown under
 * the answer anyway, the reference is noise, so it leaves the text (and the blank lines it held).
 */
export function stripShownAttachmentImages(text: string, attachments: readonly AttachmentView[]): string {
  const shown = new Set(attachments.map((a) => a.id.toLowerCase()));
  let stripped = false;
  const out = text.replace(ATTACHMENT_IMAGE, (match, id: string) => {
    if (!shown.has(id.toLowerCase())) return match;
    stripped = true;
    return '';
  });
  return stripped ? out.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim() : text;
}

const downloadHref = (url: string) => `${url}?download=1`;

function useAttachmentName() {
  const t = useTranslations('chat.attachments');
  return (a: AttachmentView) => a.file_name ?? t(`kind.${a.kind}`);
}

/** An attachment list under a message: thumbnails for images, chips for everything else. */
export function MessageAttachments({ attachments, align = 'start', className }: { attachments: readonly AttachmentView[]; align?: 'start' | 'end'; className?: string }) {
  const t = useTranslations('chat.attachments');
  if (attachments.length === 0) return null;
  return (
    <ul aria-label={t('listLabel')} className={cn('flex max-w-full flex-wrap gap-2', align === 'end' && 'justify-end', className)}>
      {attachments.map((a) => (
        <li key={a.id} className="max-w-full min-w-0">
          <AttachmentItem attachment={a} />
        </li>
      ))}
    </ul>
  );
}

export function AttachmentItem({ attachment: a }: { attachment: AttachmentView }) {
  if (a.state === 'pending') return <PendingAttachment attachment={a} />;
  if (a.state === 'failed' || !a.url) return <UnavailableAttachment attachment={a} />;
  if ((a.kind === 'image' || a.kind === 'sticker') && a.content_type && THUMBNAIL_TYPES.has(a.content_type)) return <ImageThumbnail attachment={a} url={a.url} />;
  return <FileChip attachment={a} url={a.url} />;
}

const chipClassName = 'flex max-w-[320px] min-w-0 items-center gap-2 rounded-md border bg-card px-2.5 py-1.5 text-[13px] text-card-foreground';

function ImageThumbnail({ attachment: a, url }: { attachment: AttachmentView; url: string }) {
  const t = useTranslations('chat.attachments');
  const name = useAttachmentName()(a);
  return (
    <Dialog>
      <DialogTrigger
        data-testid="attachment-thumbnail"
        aria-label={t('viewImage', { name })}
        className="block cursor-zoom-in overflow-hidden rounded-md border bg-muted focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring focus-visible:ring-offset-2"
      >
        <img src={url} alt={name} loading="lazy" decoding="async" className="block max-h-60 max-w-60 object-contain" />
      </DialogTrigger>
      <DialogContent data-testid="attachment-viewer" closeLabel={t('close')} aria-describedby={undefined} className="max-w-[min(1100px,calc(100%-2rem))]">
        <DialogTitle className="truncate pr-8" title={name}>
          {name}
        </DialogTitle>
        <img src={url} alt={name} className="mx-auto block max-h-[70dvh] max-w-full object-contain" />
        <div className="flex items-center justify-end gap-3 text-[13px] text-muted-foreground">
          {a.size_bytes != null ? <SizeText bytes={a.size_bytes} /> : null}
          <Button variant="outline" asChild>
            <a href={downloadHref(url)} download={a.file_name ?? true}>
              <Download aria-hidden="true" />
              {t('download')}
            </a>
          </Button>
        </div>
      </DialogContent>
    </Dialog>
  );
}

function SizeText({ bytes }: { bytes: number }) {
  const locale = useLocale();
  return <span className="shrink-0 text-xs text-muted-foreground">{formatBytes(locale, bytes)}</span>;
}

function FileChip({ attachment: a, url }: { attachment: AttachmentView; url: string }) {
  const t = useTranslations('chat.attachments');
  const name = useAttachmentName()(a);
  const Icon = KIND_ICONS[a.kind];
  return (
    <a
      href={downloadHref(url)}
      download={a.file_name ?? true}
      data-testid="attachment-file"
      aria-label={t('downloadNamed', { name })}
      className={cn(chipClassName, 'no-underline hover:bg-muted focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring')}
    >
      <Icon aria-hidden="true" className="size-4 shrink-0 text-muted-foreground" />
      <span className="min-w-0 truncate" title={name}>
        {name}
      </span>
      {a.size_bytes != null ? <SizeText bytes={a.size_bytes} /> : null}
      <Download aria-hidden="true" className="size-4 shrink-0 text-muted-foreground" />
    </a>
  );
}

function PendingAttachment({ attachment: a }: { attachment: AttachmentView }) {
  const t = useTranslations('chat.attachments');
  const name = useAttachmentName()(a);
  const Icon = KIND_ICONS[a.kind];
  return (
    <div data-testid="attachment-pending" className={cn(chipClassName, 'text-muted-foreground')}>
      <Icon aria-hidden="true" className="size-4 shrink-0" />
      <span className="min-w-0 truncate" title={name}>
        {name}
      </span>
      <span className="inline-flex shrink-0 items-center gap-1 text-xs">
        <Loader2 aria-hidden="true" className="size-3.5 animate-spin motion-reduce:animate-none" />
        {t('pending')}
      </span>
    </div>
  );
}

function UnavailableAttachment({ attachment: a }: { attachment: AttachmentView }) {
  const t = useTranslations('chat.attachments');
  const locale = useLocale();
  const name = useAttachmentName()(a);
  const failure = a.failure ?? 'download_failed';
  const reason =
    failure === 'too_large'
      ? a.size_bytes != null
        ? t('failure.too_large', { size: formatBytes(locale, a.size_bytes) })
        : t('failure.too_large_unknown')
      : t(`failure.${failure}`);
  return (
    <div data-testid="attachment-unavailable" className={cn(chipClassName, 'border-dashed bg-muted text-muted-foreground')}>
      <TriangleAlert aria-hidden="true" className="size-4 shrink-0" />
      <span className="flex min-w-0 flex-col">
        <span className="truncate text-foreground" title={name}>
          {name}
        </span>
        <span className="text-xs">{reason}</span>
      </span>
    </div>
  );
}
