'use client';

import { useTranslations } from 'next-intl';
import { useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';

const maxLength = 20_000;

/** Enter sends, Shift+Enter breaks the line; Enter that confirms an IME composition never sends. */
export function Composer({ disabled, onSend }: { disabled: boolean; onSend: (content: string) => Promise<boolean> }) {
  const t = useTranslations('chat');
  const id = useId();
  const [value, setValue] = useState('');
  const ref = useRef<HTMLTextAreaElement>(null);

  async function submit() {
    const content = value.trim();
    if (!content || disabled) return;
    const sent = await onSend(content);
    if (sent) setValue('');
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key !== 'Enter' || e.shiftKey || e.nativeEvent.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    void submit();
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void submit();
  }

  return (
    <form className="composer" onSubmit={onSubmit}>
      <label htmlFor={id} className="visually-hidden">
        {t('messageLabel')}
      </label>
      <textarea
        id={id}
        ref={ref}
        className="composer-input"
        rows={Math.min(8, Math.max(1, value.split('\n').length))}
        placeholder={t('composerPlaceholder')}
        value={value}
        maxLength={maxLength}
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={`${id}-hint`}
      />
      <div className="composer-bar">
        <span id={`${id}-hint`} className="composer-hint">
          {t('composerHint')}
        </span>
        <button type="submit" className="btn btn-primary btn-sm" disabled={disabled || !value.trim()}>
          {t('send')}
        </button>
      </div>
    </form>
  );
}
