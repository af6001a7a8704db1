import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import { OtpRuleEntity } from './otp-rule.entity';

declare module '../core/context' {
  interface Loaders {
    otpRules: DataLoader<number, OtpRuleEntity | null>;
  }
}

export function otpRulesLoader(db: DataSource): DataLoader<number, OtpRuleEntity | null> {
  return new DataLoader(async (ids) => {
    const rules = await db.getRepository(OtpRuleEntity).find({ where: { id: In([...ids]) } });
    return ids.map((id) => rules.find((r) => r.id === id) ?? null);
  });
}
