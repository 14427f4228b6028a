import { Type, type Static } from 'typebox';

export const USERNAME_PATTERN = '^[A-Za-z0-9._-]{1,64}$';

export const UsernameSchema = Type.String({ pattern: USERNAME_PATTERN, description: 'Login name' });

export const UserSchema = Type.Object(
  {
    username: UsernameSchema,
    is_admin: Type.Boolean({ description: 'Admins may change or delete any image' }),
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'User' },
);
export type User = Static<typeof UserSchema>;

/** A user row with its password hash, which never leaves the data and service layers. */
export interface UserWithSecret {
  user: User;
  passwordHash: string;
}
