import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturingLogger, eventDataFrame, startFakeLarkWs, waitFor, type FakeLarkWs } from '../test-support/fake-lark-ws';
import { runConnector, type ConnectorExit, type ConnectorOptions, type ConnectorStatus, type DeliveryHandler, type InboundDelivery } from './connector';
import { getHeader, type Frame } from './frame';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const APP_SECRET = 'app-secret-DO-NOT-LEAK';

let fake: FakeLarkWs;
let controllers: AbortController[] = [];
let runs: Promise<ConnectorExit>[] = [];

beforeEach(async () => {
  fake = await startFakeLarkWs();
});

afterEach(async () => {
  for (const controller of controllers) controller.abort();
  await Promise.all(runs);
  controllers = [];
  runs = [];
  await fake.close();
});

function start(overrides: Partial<ConnectorOptions> & { handler?: DeliveryHandler } = {}) {
  const controller = new AbortController();
  controllers.push(controller);
  const statuses: ConnectorStatus[] = [];
  const deliveries: InboundDelivery[] = [];
  const { logger, lines } = capturingLogger();
  const exit = runConnector(
    {
      appId: 'cli_a1b2c3d4e5f60718',
      appSecret: APP_SECRET,
      openBaseUrl: fake.baseUrl,
      logger,
      onStatus: (status) => statuses.push(status),
      ...overrides,
      handler: async (delivery) => {
        deliveries.push(delivery);
        return overrides.handler ? overrides.handler(delivery) : 'ok';
      },
    },
    controller.signal,
  );
  runs.push(exit);
  return { controller, exit, statuses, deliveries, logLines: lines };
}

function acks(frames: Frame[]): Frame[] {
  return frames.filter((f) => f.method === 1);
}

function ackCode(frame: Frame): number {
  return (JSON.parse(decoder.decode(frame.payload)) as { code: number }).code;
}

function payloadOf(text: string): Uint8Array {
  return encoder.encode(JSON.stringify({ schema: '2.0', header: { event_id: text }, text }));
}

describe('runConnector', () => {
  it('bootstraps with the documented request, then pings at once with the service id from the URL', async () => {
    const { statuses } = start();
    const connection = await waitFor(() => fake.connections[0], { what: 'connection' });
    await waitFor(() => connection.frames[0], { what: 'first ping' });
    expect(fake.bootstrapRequests).toHaveLength(1);
    const [bootstrap] = fake.bootstrapRequests;
    expect(bootstrap.headers['content-type']).toBe('application/json');
    expect(bootstrap.headers.locale).toBe('zh');
    expect(bootstrap.body).toEqual({ AppID: 'cli_a1b2c3d4e5f60718', AppSecret: APP_SECRET });
    expect(connection.query.get('ticket')).toBe('SECRET-TICKET-1');
    expect(connection.frames[0]).toEqual({ seqId: 0n, logId: 0n, service: 321, method: 0, headers: [{ key: 'type', value: 'ping' }] });
    await waitFor(() => statuses.some((s) => s.state === 'connected'), { what: 'connected status' });
    expect(statuses[0].state).toBe('connecting');
  });

  it('bootstraps afresh for every connect', async () => {
    const first = start();
    await waitFor(() => fake.connections[0]);
    first.controller.abort();
    await first.exit;
    start();
    await waitFor(() => fake.connections[1]);
    expect(fake.bootstrapRequests).toHaveLength(2);
    expect(fake.connections[1].query.get('ticket')).toBe('SECRET-TICKET-2');
  });

  it('hands a complete event to the handler and sends one ACK 200 with biz_rt, echoing the frame', async () => {
    const observed: { deliveryId: string; code: number }[] = [];
    const { deliveries, statuses } = start({ onAck: (ack) => observed.push({ deliveryId: ack.deliveryId, code: ack.code }) });
    const connection = await waitFor(() => fake.connections[0]);
    const frame = eventDataFrame({ seqId: 77n, deliveryId: 'd-1', payload: payloadOf('hello') });
    connection.send(frame);
    const [ack] = await waitFor(() => acks(connection.frames).length === 1 && acks(connection.frames));
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ frameType: 'event', deliveryId: 'd-1', traceId: 'trace-d-1' });
    expect(JSON.parse(decoder.decode(deliveries[0].payload)).text).toBe('hello');
    expect(ack.seqId).toBe(77n);
    expect(ack.logId).toBe(900n);
    expect(ack.service).toBe(321);
    expect(ack.headers.slice(0, 5)).toEqual(frame.headers);
    expect(ack.headers).toHaveLength(6);
    expect(ack.headers[5].key).toBe('biz_rt');
    expect(Number(ack.headers[5].value)).toBeGreaterThanOrEqual(0);
    expect(ackCode(ack)).toBe(200);
    expect(observed).toEqual([{ deliveryId: 'd-1', code: 200 }]);
    await waitFor(() => statuses.some((s) => s.lastEventAt !== null), { what: 'lastEventAt' });
  });

  it('answers 500 for retry and for a throwing handler, 200 for ignored, and returns card response data', async () => {
    const verdicts = new Map<string, () => Promise<'ok' | 'retry' | 'ignored' | { verdict: 'ok'; responseData: unknown }>>([
      ['retry', async () => 'retry'],
      ['throws', async () => Promise.reject(new Error('database down'))],
      ['ignored', async () => 'ignored'],
      ['card', async () => ({ verdict: 'ok', responseData: { toast: { type: 'success', content: 'done' } } })],
    ]);
    start({ handler: (delivery) => (verdicts.get(delivery.deliveryId) as () => Promise<never>)() });
    const connection = await waitFor(() => fake.connections[0]);
    let seq = 1n;
    for (const id of verdicts.keys()) {
      connection.send(eventDataFrame({ seqId: seq, deliveryId: id, payload: payloadOf(id), type: id === 'card' ? 'card' : 'event' }));
      seq += 1n;
    }
    const all = await waitFor(() => acks(connection.frames).length === 4 && acks(connection.frames));
    const byId = new Map(all.map((f) => [getHeader(f, 'message_id'), f]));
    expect(ackCode(byId.get('retry') as Frame)).toBe(500);
    expect(ackCode(byId.get('throws') as Frame)).toBe(500);
    expect(ackCode(byId.get('ignored') as Frame)).toBe(200);
    const cardAck = JSON.parse(decoder.decode((byId.get('card') as Frame).payload)) as { code: number; data: string };
    expect(cardAck.code).toBe(200);
    expect(JSON.parse(Buffer.from(cardAck.data, 'base64').toString('utf8'))).toEqual({ toast: { type: 'success', content: 'done' } });
  });

  it('answers 500 when the handler overruns its ACK budget and aborts the handler signal', async () => {
    let handlerSignal: AbortSignal | undefined;
    start({
      handlerTimeoutMs: 50,
      handler: (delivery) => {
        handlerSignal = delivery.signal;
        return new Promise(() => undefined);
      },
    });
    const connection = await waitFor(() => fake.connections[0]);
    connection.send(eventDataFrame({ deliveryId: 'slow', payload: payloadOf('slow') }));
    const [ack] = await waitFor(() => acks(connection.frames).length === 1 && acks(connection.frames));
    expect(ackCode(ack)).toBe(500);
    expect(handlerSignal?.aborted).toBe(true);
  });

  it('aborts the signal of in-flight handlers when the connection ends, without ACKing them', async () => {
    let handlerSignal: AbortSignal | undefined;
    const { controller, exit } = start({
      handler: (delivery) => {
        handlerSignal = delivery.signal;
        return new Promise(() => undefined);
      },
    });
    const connection = await waitFor(() => fake.connections[0]);
    connection.send(eventDataFrame({ deliveryId: 'in-flight', payload: payloadOf('x') }));
    await waitFor(() => handlerSignal, { what: 'handler start' });
    expect(handlerSignal?.aborted).toBe(false);
    controller.abort();
    await exit;
    expect(handlerSignal?.aborted).toBe(true);
    expect(acks(connection.frames)).toHaveLength(0);
  });

  it('hands a handler that looks at its signal only late one that is already aborted', async () => {
    // The signal is created on first use: a handler reading it after its budget ran out, or after the
    // connection ended, must still see it aborted, and a spread copy of the delivery carries it too.
    const late: { budget?: AbortSignal; closed?: AbortSignal; spread?: AbortSignal; fresh?: boolean } = {};
    let releaseBudget: () => void = () => undefined;
    let releaseClosed: () => void = () => undefined;
    const { controller, exit } = start({
      handlerTimeoutMs: 50,
      handler: async (delivery) => {
        if (delivery.deliveryId === 'fresh') {
          late.fresh = delivery.signal.aborted;
          return 'ok';
        }
        if (delivery.deliveryId === 'over-budget') {
          await new Promise<void>((resolve) => (releaseBudget = resolve));
          late.budget = delivery.signal;
          late.spread = { ...delivery }.signal;
        } else {
          await new Promise<void>((resolve) => (releaseClosed = resolve));
          late.closed = delivery.signal;
        }
        return 'ok';
      },
    });
    const connection = await waitFor(() => fake.connections[0]);
    connection.send(eventDataFrame({ deliveryId: 'fresh', payload: payloadOf('fresh') }));
    connection.send(eventDataFrame({ deliveryId: 'over-budget', payload: payloadOf('slow') }));
    await waitFor(() => acks(connection.frames).length === 2, { what: 'the 500 for the late handler' });
    expect(late.fresh).toBe(false);
    releaseBudget();
    await waitFor(() => late.budget, { what: 'the late handler' });
    expect(late.budget?.aborted).toBe(true);
    expect(late.spread?.aborted).toBe(true);

    connection.send(eventDataFrame({ deliveryId: 'cut-off', payload: payloadOf('cut') }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await exit;
    releaseClosed();
    await waitFor(() => late.closed, { what: 'the cut-off handler' });
    expect(late.closed?.aborted).toBe(true);
  });

  it('reassembles a chunked event, calls the handler once and ACKs once on the completing chunk', async () => {
    const { deliveries } = start();
    const connection = await waitFor(() => fake.connections[0]);
    const bytes = payloadOf('x'.repeat(5000));
    const thirds = [bytes.slice(0, 2000), bytes.slice(2000, 4000), bytes.slice(4000)];
    connection.send(eventDataFrame({ seqId: 12n, deliveryId: 'big', payload: thirds[2], sum: 3, seq: 2 }));
    connection.send(eventDataFrame({ seqId: 10n, deliveryId: 'big', payload: thirds[0], sum: 3, seq: 0 }));
    connection.send(eventDataFrame({ seqId: 10n, deliveryId: 'big', payload: thirds[0], sum: 3, seq: 0 }));
    connection.send(eventDataFrame({ seqId: 11n, deliveryId: 'big', payload: thirds[1], sum: 3, seq: 1 }));
    connection.send(eventDataFrame({ seqId: 20n, deliveryId: 'after', payload: payloadOf('after') }));
    await waitFor(() => acks(connection.frames).length === 2);
    expect(deliveries.map((d) => d.deliveryId)).toEqual(['big', 'after']);
    expect(Array.from(deliveries[0].payload)).toEqual(Array.from(bytes));
    expect(acks(connection.frames)[0].seqId).toBe(11n);
  });

  it('does not ACK an incomplete chunked message', async () => {
    const { deliveries } = start({ chunkTtlMs: 50 });
    const connection = await waitFor(() => fake.connections[0]);
    connection.send(eventDataFrame({ deliveryId: 'partial', payload: encoder.encode('{"a":'), sum: 2, seq: 0 }));
    connection.send(eventDataFrame({ seqId: 2n, deliveryId: 'whole', payload: payloadOf('whole') }));
    await waitFor(() => acks(connection.frames).length === 1);
    expect(deliveries.map((d) => d.deliveryId)).toEqual(['whole']);
    expect(getHeader(acks(connection.frames)[0], 'message_id')).toBe('whole');
  });

  it('ignores text frames, garbage binary frames and data frames of unknown type without dropping the connection', async () => {
    const { deliveries } = start();
    const connection = await waitFor(() => fake.connections[0]);
    connection.socket.send('{"not":"protocol"}');
    connection.socket.send(Buffer.from([0xff, 0x01, 0x02]));
    connection.send(eventDataFrame({ deliveryId: 'weird', payload: payloadOf('w'), type: 'mystery' }));
    connection.send(eventDataFrame({ seqId: 5n, deliveryId: 'real', payload: payloadOf('real') }));
    await waitFor(() => acks(connection.frames).length === 1);
    expect(deliveries.map((d) => d.deliveryId)).toEqual(['real']);
  });

  it('answers a server ping with a pong', async () => {
    start();
    const connection = await waitFor(() => fake.connections[0]);
    connection.send({ seqId: 3n, logId: 4n, service: 321, method: 0, headers: [{ key: 'type', value: 'ping' }] });
    const pong = await waitFor(() => connection.frames.find((f) => getHeader(f, 'type') === 'pong'));
    expect(pong).toMatchObject({ seqId: 3n, logId: 4n, service: 321, method: 0 });
  });

  it('adopts a ClientConfig carried by a pong and pings at the new interval', async () => {
    const { statuses } = start();
    const connection = await waitFor(() => fake.connections[0]);
    await waitFor(() => connection.frames.length >= 1);
    fake.clientConfig = { PingInterval: 1, ReconnectCount: 3, ReconnectInterval: 7, ReconnectNonce: 2 };
    connection.send({
      seqId: 0n,
      logId: 0n,
      service: 321,
      method: 0,
      headers: [{ key: 'type', value: 'pong' }],
      payload: encoder.encode(JSON.stringify(fake.clientConfig)),
    });
    await waitFor(() => statuses.at(-1)?.clientConfig.pingIntervalMs === 1000, { what: 'adopted config' });
    expect(statuses.at(-1)?.clientConfig).toEqual({ pingIntervalMs: 1000, reconnectCount: 3, reconnectIntervalMs: 7000, reconnectNonceMs: 2000 });
    // With the 120 s interval from bootstrap, a second ping would never come within the test.
    await waitFor(() => connection.frames.filter((f) => getHeader(f, 'type') === 'ping').length >= 2, { timeoutMs: 5000, what: 'second ping' });
  });

  it('detects a silent connection and returns a typed reason', async () => {
    fake.clientConfig = { PingInterval: 1, ReconnectCount: -1, ReconnectInterval: 5, ReconnectNonce: 0 };
    fake.answerPings = false;
    const { exit } = start({ silenceMarginMs: 200 });
    const result = await exit;
    expect(result.reason).toBe('silent');
    if (result.reason !== 'silent') throw new Error('unreachable');
    expect(result.silentForMs).toBeGreaterThanOrEqual(1200);
    expect(result.connectedAt).not.toBeNull();
    expect(result.clientConfig.reconnectIntervalMs).toBe(5000);
  });

  it('keeps a connection that answers pings', async () => {
    fake.clientConfig = { PingInterval: 1, ReconnectCount: -1, ReconnectInterval: 5, ReconnectNonce: 0 };
    // A generous margin: only a real half-open connection should trip the watchdog, not a busy machine.
    const { exit } = start({ silenceMarginMs: 1500 });
    const connection = await waitFor(() => fake.connections[0]);
    await waitFor(() => connection.frames.filter((f) => getHeader(f, 'type') === 'ping').length >= 4, { timeoutMs: 10000 });
    const raced = await Promise.race([exit, new Promise((resolve) => setTimeout(() => resolve('running'), 10))]);
    expect(raced).toBe('running');
  });

  it('returns within 100 ms when aborted during a blocked read, closing the socket', async () => {
    const { controller, exit, statuses } = start();
    const connection = await waitFor(() => fake.connections[0]);
    await waitFor(() => connection.frames.length >= 1);
    const closed = new Promise((resolve) => connection.socket.once('close', resolve));
    const startedAt = performance.now();
    controller.abort();
    const result = await exit;
    expect(performance.now() - startedAt).toBeLessThan(100);
    expect(result.reason).toBe('aborted');
    await closed;
    expect(statuses.at(-1)?.state).toBe('disconnected');
  });

  it('returns promptly when aborted during a hanging bootstrap', async () => {
    fake.bootstrapReply = () => true; // never answers
    const { controller, exit } = start();
    await waitFor(() => fake.bootstrapRequests.length === 1);
    const startedAt = performance.now();
    controller.abort();
    expect((await exit).reason).toBe('aborted');
    expect(performance.now() - startedAt).toBeLessThan(100);
  });

  it('returns aborted without any request when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await runConnector({ appId: 'cli_x', appSecret: 's', openBaseUrl: fake.baseUrl, handler: async () => 'ok' }, controller.signal);
    expect(result.reason).toBe('aborted');
    expect(fake.bootstrapRequests).toHaveLength(0);
  });

  it('reports the server closing the connection', async () => {
    const { exit } = start();
    const connection = await waitFor(() => fake.connections[0]);
    connection.socket.close(4001, 'bye');
    const result = await exit;
    expect(result).toMatchObject({ reason: 'closed', closeCode: 4001, detail: 'bye' });
  });

  it.each([
    [1, 'retryable'],
    [1000040343, 'retryable'],
    [403, 'fatal'],
    [514, 'fatal'],
    [1000040350, 'fatal'],
    [99999, 'fatal'],
  ])('classifies bootstrap code %i as %s', async (code, kind) => {
    fake.bootstrapReply = (_request, response) => {
      response.setHeader('Content-Type', 'application/json');
      response.end(JSON.stringify({ code, msg: 'nope', data: {} }));
    };
    const result = await start().exit;
    if (result.reason !== 'bootstrap_failed') throw new Error(`unexpected ${result.reason}`);
    expect(result.error.code).toBe(code);
    expect(result.error.kind).toBe(kind);
    expect(fake.connections).toHaveLength(0);
  });

  it('treats an unparseable bootstrap reply and a URL without service_id as retryable', async () => {
    fake.bootstrapReply = (_request, response) => {
      response.statusCode = 502;
      response.end('<html>bad gateway</html>');
    };
    const html = await start().exit;
    expect(html).toMatchObject({ reason: 'bootstrap_failed', error: { kind: 'retryable', httpStatus: 502 } });
    fake.bootstrapReply = (_request, response) => {
      response.end(JSON.stringify({ code: 0, data: { URL: 'ws://127.0.0.1:1/ws?fpid=1&ticket=SECRET-TICKET-X', ClientConfig: {} } }));
    };
    const noService = await start().exit;
    expect(noService).toMatchObject({ reason: 'bootstrap_failed', error: { kind: 'retryable' } });
  });

  it('reports an unusable connection URL without quoting it', async () => {
    fake.bootstrapReply = (_request, response) => {
      response.end(JSON.stringify({ code: 0, data: { URL: 'ftp://host/ws?service_id=1&ticket=SECRET-TICKET-F', ClientConfig: {} } }));
    };
    const { exit, logLines } = start();
    const result = await exit;
    expect(result).toMatchObject({ reason: 'dial_failed', retryable: true });
    expect(JSON.stringify(result) + logLines.join('')).not.toMatch(/SECRET/);
  });

  it('reports an unreachable bootstrap host as a retryable bootstrap failure', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const result = await start({ openBaseUrl: `http://127.0.0.1:${port}` }).exit;
    expect(result).toMatchObject({ reason: 'bootstrap_failed', error: { kind: 'retryable', code: null } });
  });

  // Answers every WebSocket upgrade with the given status line and handshake headers, as Lark's gateway does.
  async function rejectingHandshakes(response: string) {
    const server = createServer((socket) => {
      socket.once('data', () => socket.end(response));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    fake.bootstrapReply = (_request, reply) => {
      reply.end(
        JSON.stringify({
          code: 0,
          data: { URL: `ws://127.0.0.1:${port}/ws?fpid=1&access_key=SECRET-ACCESS-KEY&service_id=5&ticket=SECRET-TICKET-H`, ClientConfig: {} },
        }),
      );
    };
    return { close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it.each([
    ['403', 'HTTP/1.1 403 Forbidden\r\nhandshake-status: 403\r\nhandshake-msg: forbidden\r\nContent-Length: 0\r\n\r\n', false],
    [
      '514 with the too-many-connections code',
      'HTTP/1.1 514 Auth Failed\r\nhandshake-status: 514\r\nhandshake-autherrcode: 1000040350\r\nhandshake-msg: exceed connection limit\r\nContent-Length: 0\r\n\r\n',
      false,
    ],
    [
      '514 with another code',
      'HTTP/1.1 514 Auth Failed\r\nhandshake-status: 514\r\nhandshake-autherrcode: 1000040343\r\nhandshake-msg: busy\r\nContent-Length: 0\r\n\r\n',
      true,
    ],
    ['500', 'HTTP/1.1 500 Internal Server Error\r\nhandshake-status: 500\r\nContent-Length: 0\r\n\r\n', true],
  ])('reports a handshake rejection (%s) as dial_failed with the right retryability', async (_name, response, retryable) => {
    const rejecting = await rejectingHandshakes(response);
    const { exit, logLines } = start();
    const result = await exit;
    await rejecting.close();
    expect(result).toMatchObject({ reason: 'dial_failed', retryable });
    expect(fake.bootstrapRequests).toHaveLength(1);
    expect(JSON.stringify(result) + logLines.join('')).not.toMatch(/SECRET/);
  });

  it('logs the reason a bootstrap failed, not only its code', async () => {
    fake.bootstrapReply = (_request, response) => {
      response.setHeader('Content-Type', 'application/json');
      response.end(JSON.stringify({ code: 514, msg: 'app credentials do not match', data: {} }));
    };
    const { exit, logLines } = start();
    await exit;
    const failure = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'lark ws bootstrap failed');
    expect(failure).toMatchObject({ code: 514, kind: 'fatal' });
    expect(String(failure?.detail)).toContain('app credentials do not match');
    expect(logLines.join('')).not.toContain(APP_SECRET);
  });

  it('logs why an unreachable bootstrap host failed', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const { exit, logLines } = start({ openBaseUrl: `http://127.0.0.1:${port}` });
    await exit;
    const failure = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'lark ws bootstrap failed');
    expect(String(failure?.detail)).toContain('ECONNREFUSED');
  });

  it('never puts the app secret or the single-use URL in logs, statuses or exit values', async () => {
    const { exit, logLines, statuses, controller } = start();
    const connection = await waitFor(() => fake.connections[0]);
    connection.send(eventDataFrame({ deliveryId: 'x', payload: payloadOf('x') }));
    await waitFor(() => acks(connection.frames).length === 1);
    connection.socket.terminate();
    const result = await exit;
    controller.abort();
    const everything = [...logLines, JSON.stringify(statuses), JSON.stringify(result)].join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    expect(everything).not.toContain(APP_SECRET);
    expect(everything).not.toContain('SECRET-TICKET');
    expect(everything).not.toContain('SECRET-ACCESS-KEY');
    expect(everything).not.toContain('ws://');
  });
});
