import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FrameMethod, headerValue } from './frames';
import { startSimulator, type Simulator } from './server';
import { controlClient, RawEventClient, request, seedWorld, waitFor, type Control, type World } from './test-support';

type DeliveryRow = {
  event_id: string;
  message_id: string;
  im_message_id: string;
  attempts: number;
  status: string;
  acks: Array<{ code: number | null }>;
};

describe('event WebSocket', () => {
  let sim: Simulator;
  let control: Control;
  let world: World;
  const clients: RawEventClient[] = [];

  const connect = async () => {
    const client = await RawEventClient.connect(sim.url, world.app);
    clients.push(client);
    return client;
  };
  const say = (text: string) =>
    control.post<{ message_id: string; deliveries: Array<{ event_id: string }> }>('/messages', {
      user_id: world.userId,
      app_id: world.app.app_id,
      text,
    });
  const deliveries = async () =>
    (await control.get<{ deliveries: DeliveryRow[] }>(`/deliveries?app_id=${world.app.app_id}`)).deliveries;

  beforeAll(async () => {
    sim = await startSimulator({ ackTimeoutMs: 500, redeliveryBackoffMs: 50, maxDeliveryAttempts: 3 });
    control = controlClient(sim.url);
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    await control.post('/reset');
    world = await seedWorld(control);
  });
  afterEach(() => {
    clients.splice(0).forEach((c) => c.close());
  });

  describe('bootstrap', () => {
    it('hands out a single-use ws URL with fpid and aid first and ClientConfig in seconds', async () => {
      const res = await request<{ code: number; data: { URL: string; ClientConfig: Record<string, number> } }>(
        `${sim.url}/callback/ws/endpoint`,
        { body: { AppID: world.app.app_id, AppSecret: world.app.app_secret } },
      );
      expect(res.body.code).toBe(0);
      const url = new URL(res.body.data.URL);
      expect(url.protocol).toBe('ws:');
      expect([...url.searchParams.keys()]).toEqual(['fpid', 'aid', 'device_id', 'access_key', 'service_id', 'ticket']);
      expect(res.body.data.ClientConfig).toEqual({ PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 120, ReconnectNonce: 30 });

      const first = new RawEventClient(sim.url, world.app);
      await first.open(res.body.data.URL);
      clients.push(first);
      const second = new WebSocket(res.body.data.URL);
      second.on('error', () => {});
      const status = await new Promise<number>((resolve) => {
        second.on('unexpected-response', (req, response) => {
          resolve(response.statusCode ?? 0);
          req.destroy();
        });
        second.on('open', () => {
          resolve(101);
          second.terminate();
        });
      });
      expect(status).toBe(403);
    });

    it('answers 514 to bad credentials and to the other brand’s host', async () => {
      const bootstrap = (root: string, secret: string) =>
        request<{ code: number }>(`${root}/callback/ws/endpoint`, { body: { AppID: world.app.app_id, AppSecret: secret } });
      expect((await bootstrap(sim.url, 'wrong')).body.code).toBe(514);
      expect((await bootstrap(`${sim.url}/lark`, world.app.app_secret)).body.code).toBe(514);
      expect((await bootstrap(`${sim.url}/feishu`, world.app.app_secret)).body.code).toBe(0);
      await control.post('/faults', { kind: 'rest_error', path: '/callback/ws/endpoint', code: 1000040343, http_status: 200 });
      expect((await bootstrap(sim.url, world.app.app_secret)).body.code).toBe(1000040343);
      expect((await bootstrap(sim.url, world.app.app_secret)).body.code).toBe(0);
    });

    it('answers 1000040350 when the app has too many connections', async () => {
      const small = await startSimulator({ maxConnectionsPerApp: 1 });
      try {
        const w = await seedWorld(controlClient(small.url));
        const first = await RawEventClient.connect(small.url, w.app);
        clients.push(first);
        const res = await request<{ code: number }>(`${small.url}/callback/ws/endpoint`, {
          body: { AppID: w.app.app_id, AppSecret: w.app.app_secret },
        });
        expect(res.body.code).toBe(1000040350);
      } finally {
        await small.close();
      }
    });
  });

  describe('control frames', () => {
    it('answers a ping with a pong on the connection’s service id, carrying the ClientConfig', async () => {
      const client = await connect();
      client.ping();
      const pong = await waitFor(() => client.frames.find((f) => headerValue(f, 'type') === 'pong'));
      expect(pong.method).toBe(FrameMethod.control);
      expect(pong.service).toBe(client.serviceId);
      expect(JSON.parse(Buffer.from(pong.payload!).toString())).toEqual(expect.objectContaining({ PingInterval: 120 }));

      await control.post('/faults', {
        kind: 'push_client_config',
        app_id: world.app.app_id,
        PingInterval: 7,
        ReconnectCount: 3,
        ReconnectInterval: 9,
        ReconnectNonce: 2,
      });
      client.ping();
      const pushed = await waitFor(() => client.frames.filter((f) => headerValue(f, 'type') === 'pong')[1]);
      expect(JSON.parse(Buffer.from(pushed.payload!).toString())).toEqual({
        PingInterval: 7,
        ReconnectCount: 3,
        ReconnectInterval: 9,
        ReconnectNonce: 2,
      });
    });

    it('ignores text frames and undecodable binary frames without closing', async () => {
      const client = await connect();
      client.sendRaw('{"type":"ping"}');
      client.sendRaw(Buffer.from([0xff, 0x01, 0x02]));
      client.ping();
      await waitFor(() => client.frames.find((f) => headerValue(f, 'type') === 'pong'));
      expect(client.frames.filter((f) => headerValue(f, 'type') === 'pong')).toHaveLength(1);
      expect(client.closed).toBe(false);
    });
  });

  describe('deliveries', () => {
    it('redelivers with the same message_id and event_id until an ACK 200 arrives', async () => {
      const client = await connect();
      const sent = await say('anyone there?');
      // Never ACK the first send: it must come again after the ACK timeout.
      const frames = await waitFor(() => (client.eventFrames().length >= 2 ? client.eventFrames() : undefined), {
        what: 'a redelivery',
      });
      const [first, second] = client.events();
      expect(second.deliveryId).toBe(first.deliveryId);
      expect(second.body).toEqual(first.body);
      expect((first.body.header as { event_id: string }).event_id).toBe(sent.deliveries[0].event_id);
      client.ack(frames[1], 200);
      const row = await waitFor(async () => (await deliveries()).find((d) => d.status === 'acked'));
      expect(row.attempts).toBeGreaterThanOrEqual(2);
      expect(row.message_id).toBe(first.deliveryId);
      expect(row.im_message_id).toBe(sent.message_id);
    });

    it('redelivers after an ACK with code 500 and gives up after the last attempt', async () => {
      const client = await connect();
      await say('please retry');
      const first = await waitFor(() => client.eventFrames()[0]);
      client.ack(first, 500);
      const second = await waitFor(() => client.eventFrames()[1], { what: 'the redelivery after 500' });
      expect(headerValue(second, 'message_id')).toBe(headerValue(first, 'message_id'));
      client.ack(second, 500);
      const third = await waitFor(() => client.eventFrames()[2]);
      client.ack(third, 500);
      const row = await waitFor(async () => (await deliveries()).find((d) => d.status === 'failed'));
      expect(row.attempts).toBe(3);
      expect(row.acks.map((a) => a.code)).toEqual([500, 500, 500]);
    });

    it('holds events while no connection is open and sends them once one opens', async () => {
      await say('while you were away');
      expect((await deliveries())[0]).toEqual(expect.objectContaining({ attempts: 0, status: 'pending' }));
      const client = await connect();
      const frame = await waitFor(() => client.eventFrames()[0]);
      client.ack(frame, 200);
      await waitFor(async () => (await deliveries())[0].status === 'acked' || undefined);
    });

    it('sends each event to exactly one of an app’s connections, chosen at random', async () => {
      const a = await connect();
      const b = await connect();
      a.autoAck = 200;
      b.autoAck = 200;
      expect((await control.get<{ connections: number }>(`/apps/${world.app.app_id}`)).connections).toBe(2);
      const count = 24;
      for (let i = 0; i < count; i++) await say(`message ${i}`);
      await waitFor(async () => (await deliveries()).filter((d) => d.status === 'acked').length === count || undefined);
      const idsA = a.events().map((e) => e.deliveryId);
      const idsB = b.events().map((e) => e.deliveryId);
      expect(idsA.length + idsB.length).toBe(count);
      expect(idsA.filter((id) => idsB.includes(id))).toEqual([]);
      // 24 fair coin flips all landing on one side: about one run in eight million.
      expect(idsA.length).toBeGreaterThan(0);
      expect(idsB.length).toBeGreaterThan(0);
      expect((await deliveries()).every((d) => d.attempts === 1)).toBe(true);
    });

    it('delivers duplicates with the duplicate_deliveries fault: same event, separate deliveries', async () => {
      await control.post('/faults', { kind: 'duplicate_deliveries', app_id: world.app.app_id, count: 2 });
      const client = await connect();
      const sent = await say('say it thrice');
      const events = await waitFor(() => (client.events().length === 3 ? client.events() : undefined));
      expect(new Set(events.map((e) => (e.body.header as { event_id: string }).event_id))).toEqual(
        new Set([sent.deliveries[0].event_id]),
      );
      expect(new Set(events.map((e) => e.deliveryId)).size).toBe(3);
    });

    it('drops connections and makes them silent on demand', async () => {
      const dropped = await connect();
      await control.post('/faults', { kind: 'drop_connections', app_id: world.app.app_id });
      await waitFor(() => dropped.closed || undefined, { what: 'the drop' });

      const silent = await connect();
      await control.post('/faults', { kind: 'silent_connection', app_id: world.app.app_id });
      silent.ping();
      await say('into the void');
      await new Promise((r) => setTimeout(r, 400));
      expect(silent.frames).toEqual([]);
      expect(silent.closed).toBe(false);
      // The event went into the half-open connection; the client gives up on it and reconnects.
      silent.close();
      await waitFor(async () => (await control.get<{ connections: number }>(`/apps/${world.app.app_id}`)).connections === 0 || undefined);
      const fresh = await connect();
      const frame = await waitFor(() => fresh.eventFrames()[0], { what: 'redelivery to the new connection' });
      fresh.ack(frame, 200);
      const row = await waitFor(async () => (await deliveries()).find((d) => d.status === 'acked'));
      expect(row.attempts).toBeGreaterThanOrEqual(2);
    });
  });
});
