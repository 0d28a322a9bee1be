import { useTranslations } from 'next-intl';
import Link from 'next/link';
import type { ReactNode } from 'react';

// Configuration is quoted as typed, so it is not part of the translated text.
const selfHostingExample = `LARK_SECRET_KEY=$(openssl rand -base64 32)
APP_URL=https://larkspur.example.com
# Optional: reach Lark through a proxy; {region} becomes feishu or lark
LARK_OPEN_BASE_URL=https://lark-proxy.example.com/{region}
LARK_ACCOUNTS_BASE_URL=https://lark-proxy.example.com/{region}`;

const sections = ['install', 'binding', 'chatting', 'issues', 'disconnect', 'self-hosting', 'troubleshooting'] as const;
type SectionId = (typeof sections)[number];
const sectionKey: Record<SectionId, string> = {
  install: 'install',
  binding: 'binding',
  chatting: 'chatting',
  issues: 'issues',
  disconnect: 'disconnect',
  'self-hosting': 'selfHosting',
  troubleshooting: 'troubleshooting',
};

/** "Connect Lark": how to install a bot, link accounts, chat, file issues, disconnect and self-host. */
export function LarkGuide({ base }: { base: string }) {
  const t = useTranslations('lark.guide');
  // Underlined: inside running text a link must not be told apart by its colour alone.
  const link = (href: string) => (chunks: ReactNode) => (
    <Link href={href} className="underline underline-offset-2">
      {chunks}
    </Link>
  );
  const tags = {
    b: (chunks: ReactNode) => <strong className="font-semibold">{chunks}</strong>,
    code: (chunks: ReactNode) => <code className="rounded-sm bg-muted px-1.5 py-px font-mono text-[0.92em] wrap-anywhere">{chunks}</code>,
    agents: link(`${base}/agents`),
    settings: link(`${base}/settings/integrations`),
    members: link(`${base}/settings/members`),
    chat: link(`${base}/chat`),
    issues: link(`${base}/issues`),
  };
  const rich = (key: string, values: Record<string, string> = {}) => t.rich(key, { ...tags, ...values });
  const title = (id: SectionId) => t(`${sectionKey[id]}.title`);

  return (
    <div className="mx-auto flex w-full max-w-190 flex-col gap-4.5 px-8 pt-7 pb-12 max-md:px-4 max-md:pt-4.5 max-md:pb-10">
      <header className="min-w-0">
        <h1 className="text-xl font-semibold tracking-[-0.01em] wrap-anywhere">{t('title')}</h1>
        <p className="mt-0.5 text-muted-foreground">{t('intro')}</p>
      </header>

      <nav className={card} aria-label={t('toc')}>
        <ol className="flex flex-wrap gap-x-4 gap-y-1.5">
          {sections.map((id) => (
            <li key={id}>
              <a href={`#${id}`}>{title(id)}</a>
            </li>
          ))}
        </ol>
      </nav>

      <GuideSection id="install" title={title('install')}>
        <ol className="flex list-decimal flex-col gap-2 pl-5">
          <li>{rich('install.step1')}</li>
          <li>{rich('install.step2')}</li>
          <li>{rich('install.step3')}</li>
          <li>{rich('install.step4')}</li>
        </ol>
        <p className="text-muted-foreground">{rich('install.note')}</p>
      </GuideSection>

      <GuideSection id="binding" title={title('binding')}>
        <div className="flex flex-col gap-2">
          <p>{rich('binding.body1')}</p>
          <p>{rich('binding.body2')}</p>
          <p>{rich('binding.body3')}</p>
        </div>
      </GuideSection>

      <GuideSection id="chatting" title={title('chatting')}>
        <ul className={bullets}>
          <li>{rich('chatting.dm')}</li>
          <li>{rich('chatting.group')}</li>
          <li>{rich('chatting.format')}</li>
        </ul>
      </GuideSection>

      <GuideSection id="issues" title={title('issues')}>
        <p>{rich('issues.body')}</p>
        <CodeBlock>{`/issue ${t('issues.exampleTitle')}\n${t('issues.exampleDescription')}`}</CodeBlock>
        <ul className={bullets}>
          <li>{rich('issues.bare')}</li>
          <li>{rich('issues.confirm')}</li>
        </ul>
      </GuideSection>

      <GuideSection id="disconnect" title={title('disconnect')}>
        <p>{rich('disconnect.body')}</p>
        <p className="text-muted-foreground">{rich('disconnect.reconnect')}</p>
      </GuideSection>

      <GuideSection id="self-hosting" title={title('self-hosting')}>
        <p>{rich('selfHosting.intro')}</p>
        <ul className={bullets}>
          <li>{rich('selfHosting.secretKey')}</li>
          <li>{rich('selfHosting.appUrl')}</li>
          <li>{rich('selfHosting.overrides', { placeholder: '{region}' })}</li>
          <li>{rich('selfHosting.replicas')}</li>
        </ul>
        <CodeBlock>{selfHostingExample}</CodeBlock>
      </GuideSection>

      <GuideSection id="troubleshooting" title={title('troubleshooting')}>
        <div className="flex flex-col gap-3.5">
          {(['noButton', 'expired', 'binding', 'silent'] as const).map((key) => (
            <div key={key}>
              <h3 className="mb-0.5 text-[13.5px] font-semibold">{t(`troubleshooting.${key}.q`)}</h3>
              <p className="text-muted-foreground">{rich(`troubleshooting.${key}.a`)}</p>
            </div>
          ))}
        </div>
      </GuideSection>
    </div>
  );
}

const card = 'flex flex-col gap-3 rounded-lg border bg-card px-5 py-4.5 text-card-foreground max-md:p-4';
const bullets = 'flex list-disc flex-col gap-2 pl-5';

function GuideSection({ id, title, children }: { id: SectionId; title: string; children: ReactNode }) {
  return (
    <section id={id} className={`${card} scroll-mt-4`} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="text-[15px] font-semibold">
        {title}
      </h2>
      {children}
    </section>
  );
}

/** Text quoted as typed. Focusable, so a keyboard can scroll a line wider than the page. */
function CodeBlock({ children }: { children: string }) {
  return (
    <pre tabIndex={0} className="m-0 overflow-x-auto rounded-sm border bg-subtle px-3 py-2.5 font-mono text-[12.5px] leading-relaxed whitespace-pre">
      {children}
    </pre>
  );
}
