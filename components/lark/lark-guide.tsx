import { useTranslations } from 'next-intl';
import Link from 'next/link';
import type { ReactNode } from 'react';
import './lark.css';

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
  const tags = {
    b: (chunks: ReactNode) => <strong>{chunks}</strong>,
    code: (chunks: ReactNode) => <code>{chunks}</code>,
    agents: (chunks: ReactNode) => <Link href={`${base}/agents`}>{chunks}</Link>,
    settings: (chunks: ReactNode) => <Link href={`${base}/settings/integrations`}>{chunks}</Link>,
    members: (chunks: ReactNode) => <Link href={`${base}/settings/members`}>{chunks}</Link>,
    chat: (chunks: ReactNode) => <Link href={`${base}/chat`}>{chunks}</Link>,
    issues: (chunks: ReactNode) => <Link href={`${base}/issues`}>{chunks}</Link>,
  };
  const rich = (key: string, values: Record<string, string> = {}) => t.rich(key, { ...tags, ...values });
  const heading = (id: SectionId) => <h2 id={`${id}-title`} className="card-title">{t(`${sectionKey[id]}.title`)}</h2>;

  return (
    <div className="page page-narrow guide">
      <header className="page-header">
        <div>
          <h1 className="page-title">{t('title')}</h1>
          <p className="page-subtitle">{t('intro')}</p>
        </div>
      </header>

      <nav className="card guide-toc" aria-label={t('toc')}>
        <ol>
          {sections.map((id) => (
            <li key={id}>
              <a href={`#${id}`}>{t(`${sectionKey[id]}.title`)}</a>
            </li>
          ))}
        </ol>
      </nav>

      <section id="install" className="card guide-section" aria-labelledby="install-title">
        {heading('install')}
        <ol className="steps steps-lg">
          <li>{rich('install.step1')}</li>
          <li>{rich('install.step2')}</li>
          <li>{rich('install.step3')}</li>
          <li>{rich('install.step4')}</li>
        </ol>
        <p className="muted">{rich('install.note')}</p>
      </section>

      <section id="binding" className="card guide-section" aria-labelledby="binding-title">
        {heading('binding')}
        <div>
          <p>{rich('binding.body1')}</p>
          <p>{rich('binding.body2')}</p>
          <p>{rich('binding.body3')}</p>
        </div>
      </section>

      <section id="chatting" className="card guide-section" aria-labelledby="chatting-title">
        {heading('chatting')}
        <ul className="guide-list">
          <li>{rich('chatting.dm')}</li>
          <li>{rich('chatting.group')}</li>
          <li>{rich('chatting.format')}</li>
        </ul>
      </section>

      <section id="issues" className="card guide-section" aria-labelledby="issues-title">
        {heading('issues')}
        <p>{rich('issues.body')}</p>
        <pre className="code-block">{`/issue ${t('issues.exampleTitle')}\n${t('issues.exampleDescription')}`}</pre>
        <ul className="guide-list">
          <li>{rich('issues.bare')}</li>
          <li>{rich('issues.confirm')}</li>
        </ul>
      </section>

      <section id="disconnect" className="card guide-section" aria-labelledby="disconnect-title">
        {heading('disconnect')}
        <p>{rich('disconnect.body')}</p>
        <p className="muted">{rich('disconnect.reconnect')}</p>
      </section>

      <section id="self-hosting" className="card guide-section" aria-labelledby="self-hosting-title">
        {heading('self-hosting')}
        <p>{rich('selfHosting.intro')}</p>
        <ul className="guide-list">
          <li>{rich('selfHosting.secretKey')}</li>
          <li>{rich('selfHosting.appUrl')}</li>
          <li>{rich('selfHosting.overrides', { placeholder: '{region}' })}</li>
          <li>{rich('selfHosting.replicas')}</li>
        </ul>
        <pre className="code-block">{selfHostingExample}</pre>
      </section>

      <section id="troubleshooting" className="card guide-section" aria-labelledby="troubleshooting-title">
        {heading('troubleshooting')}
        <div className="guide-faq">
          {(['noButton', 'expired', 'binding', 'silent'] as const).map((key) => (
            <div key={key}>
              <h3>{t(`troubleshooting.${key}.q`)}</h3>
              <p className="muted">{rich(`troubleshooting.${key}.a`)}</p>
            </div>
          ))}
        </div>
      </section>
    </div>
  );
}
