import { deflateSync } from 'node:zlib';

// Small, real sample files a simulated user can send: built here, byte for byte, so they need no
// fixtures and open in any viewer.

type Rgb = [number, number, number];

const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG uses it (reflected, 0xEDB88320). */
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A truecolor PNG drawn pixel by pixel. */
export function encodePng(width: number, height: number, pixel: (x: number, y: number) => Rgb): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), row + 1 + x * 3);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const inCircle = (x: number, y: number, cx: number, cy: number, r: number) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

/** 120x80: a window with a title bar, text lines and a bar chart. */
function screenshotPng(): Buffer {
  return encodePng(120, 80, (x, y) => {
    if (x === 0 || y === 0 || x === 119 || y === 79) return [120, 124, 130];
    if (y < 12) {
      if (inCircle(x, y, 7, 6, 3)) return [237, 106, 94];
      if (inCircle(x, y, 16, 6, 3)) return [245, 191, 79];
      if (inCircle(x, y, 25, 6, 3)) return [98, 197, 84];
      return [222, 224, 227];
    }
    // Text lines on the left, a bar chart on the right.
    if (x >= 8 && x < 60 && y >= 18 && y < 70 && (y - 18) % 8 < 3 && x < 60 - ((y * 7) % 19)) return [51, 112, 255];
    if (x >= 70 && x < 112 && y >= 20 && y < 72) {
      const bar = Math.floor((x - 70) / 10);
      const tops = [50, 34, 42, 24];
      if ((x - 70) % 10 < 7 && y >= tops[bar]) return [[52, 199, 36], [255, 136, 0], [51, 112, 255], [216, 57, 49]][bar] as Rgb;
      if (y === 71) return [100, 106, 115];
    }
    return [255, 255, 255];
  });
}

/** 160x120: a sky, a sun and rolling hills. */
function photoPng(): Buffer {
  return encodePng(160, 120, (x, y) => {
    const hill = 78 + Math.round(10 * Math.sin(x / 17) + 6 * Math.sin(x / 7 + 1));
    if (y >= hill) return [46 + ((x + y) % 7) * 3, 125 + Math.round((y - hill) * 0.8), 50];
    if (inCircle(x, y, 118, 30, 14)) return [255, 214, 64];
    const t = y / hill;
    return [Math.round(90 + 120 * t), Math.round(160 + 70 * t), 245];
  });
}

/** 64x64: a round smiling face (sticker). */
function stickerPng(): Buffer {
  return encodePng(64, 64, (x, y) => {
    if (!inCircle(x, y, 32, 32, 28)) return [255, 255, 255];
    if (inCircle(x, y, 23, 25, 4) || inCircle(x, y, 41, 25, 4)) return [60, 40, 20];
    if (inCircle(x, y, 32, 34, 16) && !inCircle(x, y, 32, 30, 16) && y > 38) return [60, 40, 20];
    return [255, 205, 50];
  });
}

/** A one-page PDF with a line of text and a correct cross-reference table. */
function reportPdf(): Buffer {
  const text = 'BT /F1 18 Tf 24 100 Td (Quarterly report: revenue up 12%) Tj ET';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

// --- Ogg Opus -------------------------------------------------------------------------------

const oggCrcTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function oggCrc(bytes: Buffer): number {
  let c = 0;
  for (const b of bytes) c = ((c << 8) ^ oggCrcTable[((c >>> 24) ^ b) & 0xff]) >>> 0;
  return c >>> 0;
}

function oggPage(input: { headerType: number; granule: bigint; sequence: number; packets: Buffer[] }): Buffer {
  const lacing: number[] = [];
  for (const packet of input.packets) {
    let left = packet.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);
  }
  const header = Buffer.alloc(27 + lacing.length);
  header.write('OggS', 0, 'latin1');
  header[4] = 0;
  header[5] = input.headerType;
  header.writeBigUInt64LE(input.granule, 6);
  header.writeUInt32LE(0x4c61726b, 14); // stream serial
  header.writeUInt32LE(input.sequence, 18);
  header[26] = lacing.length;
  header.set(lacing, 27);
  const page = Buffer.concat([header, ...input.packets]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

/** Ogg Opus, mono, 48 kHz: the two header pages and `durationMs` of silent 20 ms frames. */
export function opusOgg(durationMs: number): Buffer {
  const preSkip = 312;
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // version
  head[9] = 1; // channels
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(48000, 12);
  const vendor = Buffer.from('lark-simulator', 'latin1');
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  const pages = [oggPage({ headerType: 0x02, granule: 0n, sequence: 0, packets: [head] }), oggPage({ headerType: 0, granule: 0n, sequence: 1, packets: [tags] })];
  // A one-byte packet (TOC 0xF8: CELT fullband 20 ms, one empty frame) decodes as 20 ms of silence.
  const frames = Math.max(1, Math.min(Math.round(durationMs / 20), 30_000));
  let written = 0;
  while (written < frames) {
    const count = Math.min(255, frames - written);
    written += count;
    pages.push(
      oggPage({
        headerType: written === frames ? 0x04 : 0,
        granule: BigInt(preSkip + written * 960),
        sequence: pages.length,
        packets: Array.from({ length: count }, () => Buffer.from([0xf8])),
      }),
    );
  }
  return Buffer.concat(pages);
}

/** An MP4 container: `ftyp` (isom), a `free` box and an empty `mdat`. */
function clipMp4(): Buffer {
  const box = (type: string, payload: Buffer) => {
    const size = Buffer.alloc(4);
    size.writeUInt32BE(8 + payload.length);
    return Buffer.concat([size, Buffer.from(type, 'latin1'), payload]);
  };
  const ftyp = Buffer.concat([Buffer.from('isom', 'latin1'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2avc1mp41', 'latin1')]);
  return Buffer.concat([box('ftyp', ftyp), box('free', Buffer.from('lark-simulator', 'latin1')), box('mdat', Buffer.alloc(0))]);
}

export type Sample = { data: Buffer; fileName: string; contentType: string };

const notes = `Team sync, Tuesday

- Ship the media support this week
- Review the onboarding copy
- Next sync: Thursday 10:00
`;

const csv = `date,region,orders,revenue
2025-01-06,north,128,15360.00
2025-01-06,south,97,11640.50
2025-01-07,north,143,17160.00
2025-01-07,south,88,10560.25
`;

const json = `${JSON.stringify(
  {
    project: 'Larkspur',
    owners: ['Ada', 'Mei'],
    milestones: [
      { name: 'media', due: '2025-02-01', done: false },
      { name: 'history', due: '2025-02-15', done: false },
    ],
  },
  null,
  2,
)}\n`;

let cached: Record<string, Sample> | undefined;

/** Every sample, built once. */
export function samples(): Record<'screenshot' | 'photo' | 'sticker' | 'notes' | 'csv' | 'json' | 'pdf' | 'video' | 'cover', Sample> {
  cached ??= {
    screenshot: { data: screenshotPng(), fileName: 'screenshot.png', contentType: 'image/png' },
    photo: { data: photoPng(), fileName: 'photo.png', contentType: 'image/png' },
    sticker: { data: stickerPng(), fileName: 'sticker.png', contentType: 'image/png' },
    notes: { data: Buffer.from(notes, 'utf8'), fileName: 'notes.txt', contentType: 'text/plain; charset=utf-8' },
    csv: { data: Buffer.from(csv, 'utf8'), fileName: 'orders.csv', contentType: 'text/csv; charset=utf-8' },
    json: { data: Buffer.from(json, 'utf8'), fileName: 'project.json', contentType: 'application/json' },
    pdf: { data: reportPdf(), fileName: 'report.pdf', contentType: 'application/pdf' },
    video: { data: clipMp4(), fileName: 'clip.mp4', contentType: 'video/mp4' },
    cover: { data: photoPng(), fileName: 'cover.png', contentType: 'image/png' },
  };
  return cached as ReturnType<typeof samples>;
}
