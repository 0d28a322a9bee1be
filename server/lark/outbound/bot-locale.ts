import { sql, type SQL } from 'drizzle-orm';
import { isAppLocale, type AppLocale } from '../../../i18n/locales';
import type { DbOrTx } from '../../db/client';

/**
 * The language a bot speaks: the workspace's `lark_locale` when it names one of ours; on 'auto' (or
 * anything unknown) the brand's: Feishu users read Chinese, Lark users English.
 */
export function resolveBotLocale(setting: string | null | undefined, region: 'feishu' | 'lark' | null | undefined): AppLocale {
  if (isAppLocale(setting)) return setting;
  return region === 'feishu' ? 'zh-Hans' : 'en';
}

/**
 * The same decision in SQL, for statements that already join the installation (`installation`) and
 * its workspace (`workspace`): yields the locale as text. Keep it in step with resolveBotLocale.
 */
export function botLocaleSql(workspace: SQL, installation: SQL): SQL {
  return sql`CASE WHEN ${workspace}.lark_locale IN ('en', 'zh-Hans', 'ja', 'ko') THEN ${workspace}.lark_locale
    WHEN ${installation}.region = 'feishu' THEN 'zh-Hans' ELSE 'en' END`;
}

/** The locale an installation's bot speaks in now; English when the installation is gone. */
export async function botLocaleForInstallation(db: DbOrTx, installationId: string): Promise<AppLocale> {
  const res = await db.execute<{ lark_locale: string; region: 'feishu' | 'lark' }>(
    sql`SELECT w.lark_locale, i.region FROM lark_installation i JOIN workspace w ON w.id = i.workspace_id WHERE i.id = ${installationId}::uuid`,
  );
  const row = res.rows[0];
  return row ? resolveBotLocale(row.lark_locale, row.region) : resolveBotLocale(null, 'lark');
}
