import { createTranslator } from 'use-intl/core';
import { describe, expect, it } from 'vitest';
import { locales } from '@/i18n/locales';
import en from './en.json';
import ja from './ja.json';
import ko from './ko.json';
import zhHans from './zh-Hans.json';

type Tree = { [key: string]: string | Tree };

const catalogs: Record<(typeof locales)[number], Tree> = { en, 'zh-Hans': zhHans, ja, ko };

function flatten(tree: Tree, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of flatten(value, path)) out.set(k, v);
    } else {
      out.set(path, value);
    }
  }
  return out;
}

/** Top-level ICU argument names, e.g. `{name}` and `{count, plural, ...}` give name and count. */
function argumentNames(message: string): string[] {
  return [...new Set([...message.matchAll(/\{\s*([A-Za-z_][\w]*)\s*[,}]/g)].map((m) => m[1]!))].sort();
}

const reference = flatten(en);

describe('locale catalogs', () => {
  it('covers every supported locale', () => {
    expect(Object.keys(catalogs).sort()).toEqual([...locales].sort());
  });

  for (const locale of locales) {
    const catalog = flatten(catalogs[locale]);

    it(`${locale}: has every key that en has`, () => {
      const missing = [...reference.keys()].filter((k) => !catalog.has(k));
      expect(missing).toEqual([]);
    });

    it(`${locale}: has no keys that en lacks`, () => {
      const extra = [...catalog.keys()].filter((k) => !reference.has(k));
      expect(extra).toEqual([]);
    });

    it(`${locale}: every value is a non-empty string`, () => {
      const empty = [...catalog.entries()].filter(([, v]) => typeof v !== 'string' || v.trim() === '').map(([k]) => k);
      expect(empty).toEqual([]);
    });

    it(`${locale}: uses the same placeholders as en`, () => {
      const mismatched = [...reference.entries()]
        .filter(([k, v]) => typeof v === 'string' && typeof catalog.get(k) === 'string')
        .filter(([k, v]) => argumentNames(v as string).join() !== argumentNames(catalog.get(k) as string).join())
        .map(([k]) => k);
      expect(mismatched).toEqual([]);
    });
  }
});

describe("the bot's words", () => {
  // The bot speaks outside the web app (botText), so a message that does not format would only show in Lark.
  const botKeys = [...reference.keys()].filter((k) => k.startsWith('bot.')).map((k) => k.slice('bot.'.length));

  it('has its own namespace with every message the bot sends', () => {
    expect(botKeys).toEqual(
      expect.arrayContaining([
        'bindingPrompt.title',
        'bindingPrompt.button',
        'notice.agentOffline',
        'notice.issueUsage',
        'notice.sessionReset',
        'notice.unbound',
        'notice.notBound',
        'commandUsage.list',
        'intro',
        'run.stop',
        'run.retry',
        'run.stoppedBy',
        'run.interrupted',
        'run.generating',
        'toast.notAllowed',
        'toast.alreadyFinished',
        'toast.invalidButton',
        'toast.stopping',
        'toast.retrying',
        'unbindConfirm.title',
        'unbindConfirm.body',
        'unbindConfirm.button',
        'unbindConfirm.keep',
        'agentError.title',
      ]),
    );
  });

  for (const locale of locales) {
    it(`${locale}: every bot message formats with its arguments`, () => {
      const errors: string[] = [];
      // Keys are data here, not literals, so the translator is used untyped.
      const translatorFor = createTranslator as unknown as (o: { locale: string; messages: Tree; namespace: string; onError: (e: Error) => void }) => (key: string, args: Record<string, string>) => string;
      const t = translatorFor({ locale, messages: catalogs[locale], namespace: 'bot', onError: (e) => errors.push(e.message) });
      for (const key of botKeys) {
        const args = Object.fromEntries(argumentNames(String(reference.get(`bot.${key}`))).map((name) => [name, `«${name}»`]));
        const out = t(key, args);
        for (const name of Object.keys(args)) expect(out, `bot.${key}`).toContain(`«${name}»`);
      }
      expect(errors).toEqual([]);
    });
  }
});
