import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { loadConfigOrExit } from './app/process-lifecycle';
import { createLogger } from './app/logger';
import { openDatabase, type Database } from './db/database';
import { ApiKeyService } from './auth/api-key.service';
import { UserService } from './auth/user.service';
import { Role } from './auth/roles';
import { UserErrorException } from './core/errors';

/** Opens the configured database (embedded when DATABASE_URL is unset), runs the command, closes it. */
async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const config = loadConfigOrExit();
  const db = await openDatabase({
    url: config.DATABASE_URL, dataDir: config.DATA_DIR, embeddedPort: config.EMBEDDED_PG_PORT,
    poolSize: 2, runMigrations: config.MIGRATIONS_RUN, log: createLogger('warn'),
  });
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1) throw new InvalidArgumentError('must be a whole number of days, at least 1');
  return days;
}

const program = new Command().name('countersign').description('Countersign administration');
const apikey = program.command('apikey').description('API keys');

apikey
  .command('create')
  .description('create an API key for a user and print it (shown once)')
  .requiredOption('--user <email>', 'the user the key acts as')
  .requiredOption('--name <name>', 'what the key is for, e.g. partner')
  .option('--expires-in-days <days>', 'expiry', parseDays)
  .action(async (options: { user: string; name: string; expiresInDays?: number }) => {
    await withDatabase(async ({ dataSource }) => {
      const user = await new UserService(dataSource).findByEmail(options.user);
      if (!user) throw new Error(`No user has the email ${options.user}.`);
      const expiresAt = options.expiresInDays ? new Date(Date.now() + options.expiresInDays * 86_400_000) : null;
      const { apiKey, key } = await new ApiKeyService(dataSource).create({ userId: user.id, name: options.name, expiresAt });
      process.stdout.write(`${key}\n`);
      process.stderr.write(`API key ${apiKey.id} (${apiKey.prefix}…) for ${user.email}${expiresAt ? `, expires ${expiresAt.toISOString()}` : ''}. Store it now: it is not shown again.\n`);
    });
  });

apikey
  .command('revoke')
  .description('revoke an API key by id')
  .argument('<id>')
  .action(async (id: string) => {
    await withDatabase(async ({ dataSource }) => {
      const apiKey = await new ApiKeyService(dataSource).revoke(id);
      process.stdout.write(`revoked ${apiKey.id} (${apiKey.prefix}…)\n`);
    });
  });

apikey
  .command('list')
  .description("list a user's API keys")
  .requiredOption('--user <email>')
  .action(async (options: { user: string }) => {
    await withDatabase(async ({ dataSource }) => {
      const user = await new UserService(dataSource).findByEmail(options.user);
      if (!user) throw new Error(`No user has the email ${options.user}.`);
      for (const k of await new ApiKeyService(dataSource).listForUser(user.id)) {
        const state = k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt < new Date() ? 'expired' : 'active';
        process.stdout.write(`${k.id}  ${k.prefix}…  ${k.name}  ${state}\n`);
      }
    });
  });

program
  .command('user')
  .description('users')
  .command('create')
  .requiredOption('--email <email>')
  .requiredOption('--name <name>')
  .option('--role <role>', 'ADMIN, USER or READONLY', 'USER')
  .option('--profile <profile>', 'named profile', 'Standard')
  .action(async (options: { email: string; name: string; role: string; profile: string }) => {
    if (!Object.values(Role).includes(options.role as Role)) throw new Error('--role must be ADMIN, USER or READONLY');
    await withDatabase(async ({ dataSource }) => {
      const user = await new UserService(dataSource).create({ ...options, role: options.role as Role });
      process.stdout.write(`${user.id}  ${user.email}  ${user.role}\n`);
    });
  });

program.parseAsync().catch((error: unknown) => {
  const message = error instanceof UserErrorException ? error.userErrors.map((e) => e.message).join('\n') : error instanceof Error ? error.message : String(error);
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
