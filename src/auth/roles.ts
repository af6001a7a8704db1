import { registerEnumType } from 'type-graphql';

export enum Role {
  ADMIN = 'ADMIN',
  USER = 'USER',
  READONLY = 'READONLY',
}

registerEnumType(Role, { name: 'Role', description: 'ADMIN manages everything; USER reads and writes records; READONLY only reads.' });

/** Roles allowed to change CRM data (records, connections, OTPs). */
export const WRITER_ROLES = [Role.ADMIN, Role.USER];
export const ADMIN_ROLES = [Role.ADMIN];
