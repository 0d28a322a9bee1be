// Runs once when a web server process starts: bring the schema up to date before serving. The
// worker does the same; an advisory lock makes whichever starts second wait for the first.
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { ConfigError, env } = await import('./server/env');
  // Sessions would otherwise be signed with better-auth's public default; refuse to serve at all.
  if (!env().BETTER_AUTH_SECRET) throw new ConfigError('BETTER_AUTH_SECRET is not set: set it to 32+ random characters (npm start generates one into .data/)');
  const { applyMigrations } = await import('./server/db/migrate');
  await applyMigrations(env().DATABASE_URL);
}
