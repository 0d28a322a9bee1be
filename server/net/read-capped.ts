/**
 * Reads a response body, at most `maxBytes` of it: a bigger body (announced by Content-Length or
 * found while reading) is cancelled unread and `onTooLarge` says what to throw with the size seen.
 */
export async function readBodyCapped(response: Response, maxBytes: number, onTooLarge: (sizeBytes: number) => Error): Promise<Buffer> {
  const announced = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(announced) && announced > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw onTooLarge(announced);
  }
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw onTooLarge(total);
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(chunks, total);
}
