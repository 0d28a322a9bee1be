import type { MemberView } from './members';

export function memberView(m: MemberView) {
  return { user_id: m.userId, email: m.email, name: m.name, role: m.role, joined_at: m.joinedAt };
}
