// Runs once when a web server process starts: bring the schema up to date before serving. The
// worker does the same; an advisory lock makes whichever starts second wait for the first.
export async function register() {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { env } = await import('./server/env');
  const { applyMigrations } = await import('./server/db/migrate');
  await applyMigrations(env().DATABASE_URL);
}
