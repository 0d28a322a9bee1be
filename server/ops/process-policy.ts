import type { Logger } from 'pino';

/**
 * What a long-running process does with errors nobody caught. A rejected promise is a bug in one
 * piece of work, not a broken process: log it with its stack and keep serving. An uncaught
 * exception may have left state half-changed: log it and exit, so the supervisor starts a clean
 * process (which takes back its own leases and tasks).
 */
export function installProcessErrorPolicy(log: Logger, exit: (code: number) => void = (code) => process.exit(code)): () => void {
  const onRejection = (err: unknown) => log.error({ err }, 'unhandled promise rejection; continuing');
  const onException = (err: Error) => {
    log.fatal({ err }, 'uncaught exception; exiting so the process restarts clean');
    exit(1);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
