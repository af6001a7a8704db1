import { buildSchemaSync, type AuthChecker, type ContainerType } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import type { RequestContext } from './context';
import { ApiKeyResolver, UserResolver } from '../auth/auth.resolver';
import { RecordResolver } from '../records/record.resolver';
import { OtpResolver } from '../otp/otp.resolver';
import { MessageTemplateResolver } from '../otp/templates/message-template.resolver';

/** Every resolver class; features add theirs here. */
export const RESOLVERS = [UserResolver, ApiKeyResolver, RecordResolver, OtpResolver, MessageTemplateResolver] as const;

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
