import type { User, UserWithSecret } from '../core/models/user.js';
import type { Database } from './database.js';
import { fromSqlTime, toSqlTime } from './sql-time.js';

interface UserRow {
  username: string;
  password_hash: string;
  is_admin: number | boolean;
  created_at: string | Date;
}

function userFromRow(row: UserRow): User {
  return { username: row.username, is_admin: Boolean(row.is_admin), created_at: fromSqlTime(row.created_at) };
}

export interface NewUser {
  username: string;
  passwordHash: string;
  isAdmin: boolean;
  createdAt: string;
}

export interface UserRepository {
  findByUsername(username: string): Promise<UserWithSecret | undefined>;
  /** Throws ConstraintViolationError when the username is taken. */
  insert(user: NewUser): Promise<User>;
  list(): Promise<User[]>;
  count(): Promise<number>;
  updatePassword(username: string, passwordHash: string, updatedAt: string): Promise<boolean>;
  deleteByUsername(username: string): Promise<boolean>;
}

const COLUMNS = 'username, password_hash, is_admin, created_at';

export class SqlUserRepository implements UserRepository {
  constructor(private readonly db: Database) {}

  async findByUsername(username: string): Promise<UserWithSecret | undefined> {
    const row = await this.db.get<UserRow>(`SELECT ${COLUMNS} FROM user WHERE username = :username`, { username });
    return row === undefined ? undefined : { user: userFromRow(row), passwordHash: row.password_hash };
  }

  async insert(user: NewUser): Promise<User> {
    const createdAt = toSqlTime(user.createdAt);
    await this.db.run(
      `INSERT INTO user (username, password_hash, is_admin, created_at, updated_at)
       VALUES (:username, :passwordHash, :isAdmin, :createdAt, :createdAt)`,
      { username: user.username, passwordHash: user.passwordHash, isAdmin: user.isAdmin ? 1 : 0, createdAt },
    );
    return { username: user.username, is_admin: user.isAdmin, created_at: fromSqlTime(createdAt) };
  }

  async list(): Promise<User[]> {
    const rows = await this.db.all<UserRow>(`SELECT ${COLUMNS} FROM user ORDER BY username`);
    return rows.map(userFromRow);
  }

  async count(): Promise<number> {
    const row = await this.db.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM user');
    return Number(row?.n ?? 0);
  }

  async updatePassword(username: string, passwordHash: string, updatedAt: string): Promise<boolean> {
    const { changes } = await this.db.run(
      'UPDATE user SET password_hash = :passwordHash, updated_at = :updatedAt WHERE username = :username',
      { username, passwordHash, updatedAt: toSqlTime(updatedAt) },
    );
    return changes > 0;
  }

  async deleteByUsername(username: string): Promise<boolean> {
    const { changes } = await this.db.run('DELETE FROM user WHERE username = :username', { username });
    return changes > 0;
  }
}
