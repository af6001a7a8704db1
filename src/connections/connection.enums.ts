import { registerEnumType } from 'type-graphql';
import { ConnectionHistoryAction } from './connection-history.entity';

export enum ConnectionStatus { ACTIVE = 'ACTIVE', INACTIVE = 'INACTIVE' }
registerEnumType(ConnectionStatus, {
  name: 'ConnectionStatus',
  description: 'ACTIVE until the end date has passed (computed when read, in UTC), INACTIVE after.',
});

export enum ConnectionDirection { OUTGOING = 'OUTGOING', INCOMING = 'INCOMING', MUTUAL = 'MUTUAL' }
registerEnumType(ConnectionDirection, {
  name: 'ConnectionDirection',
  description: 'How a connection looks from one of its records.',
  valuesConfig: {
    OUTGOING: { description: 'The record is the source: the label is the type\'s `name`.' },
    INCOMING: { description: 'The record is the target: the label is the type\'s `inverseName`.' },
    MUTUAL: { description: 'The type is symmetric: both sides read the same label.' },
  },
});

registerEnumType(ConnectionHistoryAction, {
  name: 'ConnectionHistoryAction',
  description: 'What a history entry records.',
  valuesConfig: {
    CREATED: { description: 'The connection was created.' },
    UPDATED: { description: 'Dates, properties, notes, type or records changed.' },
    ENDED: { description: 'Only the end date changed, to a first or an earlier end date.' },
    DELETED: { description: 'The connection was deleted; `oldValues` keeps what it was.' },
  },
});
