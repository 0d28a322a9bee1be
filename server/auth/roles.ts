import type { MemberRole } from '../db/schema';

const roleRank: Record<MemberRole, number> = { member: 0, admin: 1, owner: 2 };

export const hasRole = (role: MemberRole, atLeast: MemberRole) => roleRank[role] >= roleRank[atLeast];
