import { describe, expect, test } from 'vitest';
import { IMAGE_MARK } from './lark-markup';
import { cardParts, streamingParts } from './stream-card';

describe('streamed frames', () => {
  test('an image shows as its alt text with an image mark until the final card replaces it', () => {
    const answer = 'Here is the chart:\n\n![sales by month](attachment:0b8c2f5e-9a3b-4c1d-8e7f-1a2b3c4d5e6f)\n\nSales grew.';
    expect(streamingParts(answer)).toEqual([`Here is the chart:\n\n${IMAGE_MARK} sales by month\n\nSales grew.`]);
    // The final close shows the uploaded key in its place.
    const final = answer.replace('attachment:0b8c2f5e-9a3b-4c1d-8e7f-1a2b3c4d5e6f', 'img_v3_02ab_k');
    expect(cardParts(final, { imageKeys: new Set(['img_v3_02ab_k']) })).toEqual(['Here is the chart:\n\n![sales by month](img_v3_02ab_k)\n\nSales grew.']);
  });

  test('a data URL being written never reaches a frame, however long', () => {
    const partial = `Look: ![plot](data:image/png;base64,${'A'.repeat(60_000)}`;
    const parts = streamingParts(partial);
    expect(parts).toEqual([`Look: ${IMAGE_MARK} plot`]);
  });
});
