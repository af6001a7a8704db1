import { buildSchemaSync, type AuthChecker, type ContainerType } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import type { RequestContext } from '../core/context';
import { ApiKeyResolver, UserResolver } from '../auth/auth.resolver';
import { RecordResolver } from '../records/record.resolver';
import { OtpRequestRuleResolver, OtpRuleResolver } from '../otp-rules/otp-rule.resolver';
import { OtpResolver } from '../otp/otp.resolver';
import { MessageTemplateResolver } from '../otp/templates/message-template.resolver';
import { ConnectionTypeResolver } from '../connections/connection-type.resolver';
import { ConnectionResolver } from '../connections/connection.resolver';
import { RecordConnectionResolver, RecordConnectionsResolver } from '../connections/record-connection.resolver';
import { IntegrityResolver } from '../connections/integrity.resolver';
import { FRAUD_RESOLVERS } from '../fraud/fraud.feature';

/** Every resolver class; features add theirs here. */
export const RESOLVERS = [
  UserResolver, ApiKeyResolver, RecordResolver,
  ConnectionTypeResolver, ConnectionResolver, RecordConnectionsResolver, RecordConnectionResolver, IntegrityResolver,
  OtpResolver, MessageTemplateResolver,
  OtpRuleResolver, OtpRequestRuleResolver,
  ...FRAUD_RESOLVERS,
] as const;

const authChecker: AuthChecker<RequestContext> = ({ context }, roles) => roles.length === 0 || roles.includes(context.user.role);

/**
 * Builds the executable schema. `container` hands type-graphql the resolver instances, which receive their
 * services through their constructors; printing the schema needs none.
 */
export function buildAppSchema(container?: ContainerType): GraphQLSchema {
  return buildSchemaSync({
    resolvers: RESOLVERS as unknown as [Function, ...Function[]],
    container: container ?? { get: () => { throw new Error('no container: this schema is for printing only'); } },
    authChecker,
    validate: { forbidUnknownValues: false },
  });
}
