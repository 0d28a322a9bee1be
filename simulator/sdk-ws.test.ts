import { EventDispatcher, LoggerLevel, WSClient } from '@larksuiteoapi/node-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from './server';
import { controlClient, seedWorld, waitFor, type Control } from './test-support';

type ReceivedEvent = {
  event_id?: string;
  sender: { sender_id: { open_id: string; union_id: string } };
  message: { message_id: string; chat_type: string; message_type: string; content: string };
};

type DeliveryRow = { event_id: string; attempts: number; chunks: number; status: string; acks: Array<{ code: number }> };

// The official SDK is the referee: its WSClient must bootstrap, connect, reassemble our chunks and ACK.
describe('official SDK WSClient against the simulator', () => {
  let sim: Simulator;
  let control: Control;

  beforeAll(async () => {
    sim = await startSimulator({ ackTimeoutMs: 800 });
    control = controlClient(sim.url);
  });
  afterAll(() => sim.close());

  it('receives a chunked im.message.receive_v1 through its EventDispatcher and ACKs it with 200', async () => {
    const world = await seedWorld(control);
    await control.post('/faults', { kind: 'chunk_events', app_id: world.app.app_id, chunk_bytes: 256 });

    const received: ReceivedEvent[] = [];
    // Anything the SDK complains about (a bad pong, a frame it cannot merge) fails the test.
    const complaints: unknown[][] = [];
    const logger = {
      error: (...msg: unknown[]) => {
        complaints.push(msg);
      },
      warn: (...msg: unknown[]) => {
        complaints.push(msg);
      },
      info() {},
      debug() {},
      trace() {},
    };
    const dispatcher = new EventDispatcher({ logger, loggerLevel: LoggerLevel.warn }).register({
      'im.message.receive_v1': async (data) => {
        received.push(data as unknown as ReceivedEvent);
      },
    });
    const client = new WSClient({
      appId: world.app.app_id,
      appSecret: world.app.app_secret,
      domain: sim.url,
      logger,
      loggerLevel: LoggerLevel.warn,
    });
    try {
      void client.start({ eventDispatcher: dispatcher });
      await waitFor(async () => (await control.get<{ connections: number }>(`/apps/${world.app.app_id}`)).connections === 1, {
        what: 'the SDK to connect',
      });

      const text = `a long message ${'lorem ipsum '.repeat(80)}`;
      const sent = await control.post<{ message_id: string; deliveries: Array<{ event_id: string }> }>('/messages', {
        user_id: world.userId,
        app_id: world.app.app_id,
        text,
      });

      const event = await waitFor(() => received[0], { what: 'the SDK handler to run' });
      expect(event.message.message_id).toBe(sent.message_id);
      expect(event.message.chat_type).toBe('p2p');
      expect(JSON.parse(event.message.content)).toEqual({ text });
      const { open_id: expectedOpenId } = await control.get<{ open_id: string }>(
        `/apps/${world.app.app_id}/open-id?user_id=${world.userId}`,
      );
      expect(event.sender.sender_id.open_id).toBe(expectedOpenId);

      const delivery = await waitFor(
        async () => {
          const { deliveries } = await control.get<{ deliveries: DeliveryRow[] }>(`/deliveries?app_id=${world.app.app_id}`);
          return deliveries[0]?.status === 'acked' ? deliveries[0] : undefined;
        },
        { what: 'the ACK' },
      );
      expect(delivery.event_id).toBe(sent.deliveries[0].event_id);
      expect(delivery.chunks).toBeGreaterThan(1);
      expect(delivery.acks.map((a) => a.code)).toEqual([200]);

      // Well past the ACK timeout: an ACKed event is never sent again.
      await new Promise((r) => setTimeout(r, 1600));
      const { deliveries } = await control.get<{ deliveries: DeliveryRow[] }>(`/deliveries?app_id=${world.app.app_id}`);
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0].attempts).toBe(1);
      expect(received).toHaveLength(1);
      expect(complaints).toEqual([]);
    } finally {
      client.close({ force: true });
    }
  });
});
