import { Arg, Ctx, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { RequestContext } from '../core/context';
import { Forbidden } from '../core/errors';
import type { StreamedEvent } from '../events/event-stream';
import type { OtpRequestEntity } from './otp-request.entity';
import { otpSubject } from './otp.events';
import type { OtpService } from './otp.service';
import { OtpRequestType } from './otp.types';

@Resolver()
export class OtpSubscriptionResolver {
  constructor(private readonly otpService: OtpService) {}

  @Subscription(() => OtpRequestType, {
    topics: ({ args }) => otpSubject(String(args.id)),
    description: 'The OTP request now, then again after each change to it (status, attempts, per-channel delivery), from any server instance. Who may see it: as otpRequest(id).',
  })
  async otpRequestUpdated(@Arg('id', () => ID) id: string, @Root() event: StreamedEvent, @Ctx() ctx: RequestContext): Promise<OtpRequestEntity> {
    const request = await this.otpService.get(ctx, id);
    if (!request) {
      event.stop();
      throw new Forbidden('No OTP request you may see has this id.');
    }
    return request;
  }
}
