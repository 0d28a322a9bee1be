import { describe, expect, test } from 'vitest';
import { formatSize, larkFileType } from './answer-media';

describe('larkFileType', () => {
  test.each([
    ['application/pdf', 'report.pdf', 'pdf'],
    ['application/msword', 'old.doc', 'doc'],
    ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'notes.docx', 'doc'],
    ['application/vnd.ms-excel', 'sheet.xls', 'xls'],
    ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'sheet.xlsx', 'xls'],
    ['application/vnd.ms-excel.sheet.macroenabled.12', 'macros.xlsm', 'xls'],
    ['application/vnd.ms-powerpoint', 'deck.ppt', 'ppt'],
    ['application/vnd.openxmlformats-officedocument.presentationml.presentation', 'deck.pptx', 'ppt'],
    ['video/mp4', 'clip.mp4', 'mp4'],
    ['audio/ogg; codecs=opus', 'voice.opus', 'opus'],
    ['audio/ogg', 'voice.ogg', 'opus'],
    // Legacy office files sniff as a container; their extension tells which.
    ['application/x-cfb', 'budget.xls', 'xls'],
    ['application/x-cfb', 'letter.DOC', 'doc'],
    ['application/zip', 'deck.pptx', 'ppt'],
    ['application/zip', 'archive.zip', 'stream'],
    ['application/octet-stream', 'echo-40mb.bin', 'stream'],
    ['text/plain', 'notes.txt', 'stream'],
    ['text/csv', 'data.csv', 'stream'],
    ['image/svg+xml', 'logo.svg', 'stream'],
  ])('%s named %s is uploaded as %s', (contentType, fileName, fileType) => {
    expect(larkFileType(contentType, fileName)).toBe(fileType);
  });

  test('an extension never claims a type Lark checks the bytes of', () => {
    // Lark refuses a pdf, mp4 or opus upload whose bytes are not one: the name alone decides nothing.
    expect(larkFileType('text/plain', 'fake.pdf')).toBe('stream');
    expect(larkFileType('application/octet-stream', 'fake.mp4')).toBe('stream');
    expect(larkFileType('application/octet-stream', 'fake.opus')).toBe('stream');
    expect(larkFileType('application/octet-stream', null)).toBe('stream');
  });
});

describe('formatSize', () => {
  test.each([
    [0, '0 B'],
    [512, '512 B'],
    [14 * 1024, '14 KB'],
    [2.5 * 1024 * 1024, '2.5 MB'],
    [40 * 1024 * 1024, '40 MB'],
    [3 * 1024 ** 3, '3 GB'],
  ])('%d bytes read as %s', (bytes, shown) => {
    expect(formatSize(bytes)).toBe(shown);
  });
});
