import type { DataSource } from 'typeorm';
import { ErrorCode, UserError, UserErrorException } from '../core/errors';
import { isUuid } from '../core/ids';
import { decodeCursor, encodeCursor, type PageSource } from '../core/pagination';
import { toUserEntity, UserEntity, type UserRole } from './user.entity';
import { Authenticator } from './authenticator';
import { isEmailAddress } from '../core/email';

export interface UserChanges {
  email?: string | null;
  name?: string | null;
  role?: UserRole | null;
  profile?: string | null;
  active?: boolean | null;
}


export class UserService {
  /** `onAuthChange` runs after a committed change that may invalidate cached principals of this instance. */
  constructor(private readonly db: DataSource, private readonly onAuthChange: () => void = () => undefined) {}

  /** Users by email (the unique index orders them), optionally of one role and state. */
  async page(filter: { role?: UserRole | null; active?: boolean | null }, first: number, after?: string | null): Promise<PageSource<UserEntity>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.role) where.push(`role = $${params.push(filter.role)}`);
    if (filter.active != null) where.push(`active = $${params.push(filter.active)}`);
    const counted = { where: [...where], params: [...params] };
    if (after) {
      const [, email] = decodeCursor(after, [(v) => v === 'User', 'text']);
      where.push(`email > $${params.push(email)}`);
    }
    const clause = (w: string[]) => (w.length ? `WHERE ${w.join(' AND ')}` : '');
    const rows = await this.db.query(`SELECT * FROM users ${clause(where)} ORDER BY email LIMIT $${params.push(first + 1)}`, params);
    return {
      rows: rows.map(toUserEntity),
      first,
      cursorOf: (user) => encodeCursor(['User', user.email]),
      count: async () => (await this.db.query(`SELECT count(*)::int AS n FROM users ${clause(counted.where)}`, counted.params))[0].n,
    };
  }

  async findByEmail(email: string): Promise<UserEntity | null> {
    return this.db.getRepository(UserEntity).findOneBy({ email: email.trim().toLowerCase() });
  }

  async create(input: Required<Pick<UserChanges, 'email' | 'name' | 'role'>> & UserChanges): Promise<UserEntity> {
    const changes = this.validate(input, true);
    await this.assertEmailFree(changes.email!);
    return this.db.getRepository(UserEntity).save({ profile: 'Standard', active: true, ...changes });
  }

  async update(id: string, input: UserChanges): Promise<UserEntity> {
    const repo = this.db.getRepository(UserEntity);
    const user = isUuid(id) ? await repo.findOneBy({ id }) : null;
    if (!user) throw UserErrorException.of(ErrorCode.NOT_FOUND, 'No user has this id.', ['id']);
    const changes = this.validate(input, false);
    if (changes.email && changes.email !== user.email) await this.assertEmailFree(changes.email);
    Object.assign(user, changes);
    const saved = await this.db.transaction(async (tx) => {
      const row = await tx.getRepository(UserEntity).save(user);
      await Authenticator.announceChange(tx); // role, profile or active may have changed: cached principals are stale
      return row;
    });
    this.onAuthChange();
    return saved;
  }

  private validate(input: UserChanges, creating: boolean): Partial<UserEntity> {
    const errors: UserError[] = [];
    const changes: Partial<UserEntity> = {};
    if (input.email != null || creating) {
      const email = (input.email ?? '').trim().toLowerCase();
      if (!isEmailAddress(email)) errors.push(new UserError(ErrorCode.INVALID, 'The email must be a valid email address.', ['email']));
      changes.email = email;
    }
    if (input.name != null || creating) {
      const name = (input.name ?? '').trim();
      if (name.length < 1 || name.length > 200) errors.push(new UserError(ErrorCode.INVALID, 'The name must be 1 to 200 characters.', ['name']));
      changes.name = name;
    }
    if (input.profile != null) {
      const profile = input.profile.trim();
      if (profile.length < 1 || profile.length > 64) errors.push(new UserError(ErrorCode.INVALID, 'The profile must be 1 to 64 characters.', ['profile']));
      changes.profile = profile;
    }
    if (input.role != null) changes.role = input.role;
    if (input.active != null) changes.active = input.active;
    if (errors.length) throw new UserErrorException(errors);
    return changes;
  }

  private async assertEmailFree(email: string): Promise<void> {
    if (await this.findByEmail(email)) throw UserErrorException.of(ErrorCode.TAKEN, 'A user with this email already exists.', ['email']);
  }
}
