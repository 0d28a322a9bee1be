// What the Lark users do (DMs to their bots at a steady rate, probes, a poison message) and what
// they see (the bots' answers in the simulator's transcripts). Every message carries a token that
// the echo agent quotes back, so an answer names the question it answers.
import type { Bot } from './environment';
import type { SimControl } from './simulator';
import { sleep, withTimeout } from './timing';

export type MessageKind = 'warmup' | 'load' | 'probe' | 'poison';

export type SentMessage = { token: string; kind: MessageKind; bot: Bot; larkMessageId: string; sentAt: number };

const PREFIX: Record<MessageKind, string> = { warmup: 'w', load: 'q', probe: 'p', poison: 'x' };

/** "chaos q00042": how a message starts, and how the echo agent's answer quotes it. */
export const TOKEN_PATTERN = /chaos ([wqpx]\d{5})/g;
/** The same, as a PostgreSQL regular expression on a stored message. */
export const TOKEN_SQL_PATTERN = '^chaos ([wqpx][0-9]{5})';

export type Answers = {
  /** Token -> creation times (simulator clock, epoch ms) of the bot messages quoting it. */
  byToken: Map<string, number[]>;
  /** Bot messages that quote no question: error cards, notices, prompts. */
  unattributed: number;
};

export type LoadHandle = { stop: () => Promise<void> };

const MAX_IN_FLIGHT = 32;
const STOP_TIMEOUT_MS = 20_000;

export class Traffic {
  readonly sent: SentMessage[] = [];
  sendFailures = 0;
  lastSendError: string | null = null;
  private readonly next: Record<MessageKind, number> = { warmup: 0, load: 0, probe: 0, poison: 0 };

  constructor(
    private readonly control: SimControl,
    private readonly bots: Bot[],
  ) {}

  /**
   * One DM from the bot's Lark user. `length` pads the text to that many characters (Lark takes
   * up to 150 KB of text). The words are chosen so the echo agent answers plainly.
   */
  async send(bot: Bot, kind: MessageKind, length?: number): Promise<SentMessage | null> {
    this.next[kind] += 1;
    const token = `${PREFIX[kind]}${String(this.next[kind]).padStart(5, '0')}`;
    let text = `chaos ${token} from user ${bot.index}`;
    if (length && length > text.length) text = `${text} ${'poison '.repeat(Math.ceil(length / 7))}`.slice(0, length);
    try {
      const sentAt = Date.now();
      const res = await this.control.sendDm(bot.userId, bot.appId, text);
      const message = { token, kind, bot, larkMessageId: res.message_id, sentAt };
      this.sent.push(message);
      return message;
    } catch (err) {
      this.sendFailures += 1;
      this.lastSendError = err instanceof Error ? err.message : String(err);
      return null;
    }
  }

  /** One message into every chat at once. */
  async sendToEveryChat(kind: MessageKind): Promise<SentMessage[]> {
    const sent = await Promise.all(this.bots.map((b) => this.send(b, kind)));
    return sent.filter((m): m is SentMessage => m !== null);
  }

  /** DMs at `perSecond` across the bots in turn, until stopped. */
  startLoad(perSecond: number): LoadHandle {
    let stopped = false;
    const inFlight = new Set<Promise<unknown>>();
    const loop = (async () => {
      const started = Date.now();
      for (let n = 0; !stopped; n++) {
        const due = started + (n * 1000) / perSecond;
        if (due > Date.now()) await sleep(due - Date.now());
        if (stopped) break;
        // A simulator that stalls must not pile up requests without bound.
        if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
        const p = this.send(this.bots[n % this.bots.length], 'load').finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await withTimeout(loop.then(() => Promise.all(inFlight)), STOP_TIMEOUT_MS, null);
      },
    };
  }

  /** Reads every chat's transcript and finds which questions the bots answered, and when. */
  async answers(): Promise<Answers> {
    const byToken = new Map<string, number[]>();
    let unattributed = 0;
    const transcripts = await Promise.all(this.bots.map((b) => this.control.chatMessages(b.chatId)));
    for (const messages of transcripts) {
      for (const m of messages) {
        if (m.sender.type !== 'app') continue;
        const tokens = new Set([...JSON.stringify(m.content).matchAll(TOKEN_PATTERN)].map((x) => x[1]));
        if (tokens.size === 0) unattributed += 1;
        for (const token of tokens) {
          const times = byToken.get(token) ?? [];
          times.push(Number(m.create_time));
          byToken.set(token, times);
        }
      }
    }
    return { byToken, unattributed };
  }
}
