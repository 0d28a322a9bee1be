import { json, type Reply } from './http';
import { newAppId, newAppSecret, newDeviceCode, newUserCode } from './ids';
import type { Brand, Directory } from './state';

export type RegistrationStatus = 'pending' | 'approved' | 'denied' | 'completed' | 'expired';

type Registration = {
  deviceCode: string;
  userCode: string;
  /** The accounts host (brand) the flow was begun on. */
  brand: Brand;
  status: Exclude<RegistrationStatus, 'expired'>;
  createdAt: number;
  expiresAt: number;
  intervalMs: number;
  /** Last poll per accounts host: a brand switch polls the other host at once, and that is fine. */
  lastPollAt: Partial<Record<Brand, number>>;
  approval?: { userId: string; appId: string };
};

export type RegistrationView = {
  user_code: string;
  brand: Brand;
  status: RegistrationStatus;
  created_at: number;
  expires_at: number;
  app_id: string | null;
  approved_by: string | null;
};

export class RegistrationError extends Error {
  constructor(
    readonly kind: 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
  }
}

// Arrival jitter of a client that polls exactly every `interval`.
const pollToleranceMs = 250;
const slowDownStepMs = 5000;

const oauthError = (error: string, description: string, status = 400): Reply =>
  json(status, { error, error_description: description });

/** Device-flow app registration (RFC 8628 style), `POST /oauth/v1/app/registration`. */
export class Registrations {
  private readonly byDeviceCode = new Map<string, Registration>();
  private readonly byUserCode = new Map<string, Registration>();

  constructor(
    private readonly dir: Directory,
    private readonly opts: { intervalSeconds: number; expiresInSeconds: number },
  ) {}

  handle(input: { brand: Brand; contentType: string | undefined; body: Buffer; baseUrl: string }): Reply {
    if (!input.contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return oauthError('invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(input.body.toString('utf8'));
    switch (form.get('action')) {
      case 'begin':
        return this.begin(input.brand, form, input.baseUrl);
      case 'poll':
        return this.poll(input.brand, form.get('device_code') ?? '');
      default:
        return oauthError('invalid_request', 'action must be begin or poll');
    }
  }

  approve(userCode: string, input: { userId: string; appName?: string }): { app_id: string; brand: Brand } {
    const reg = this.pendingByUserCode(userCode);
    const user = this.dir.users.get(input.userId);
    if (!user) throw new RegistrationError('not_found', `user ${input.userId} not found`);
    const tenant = this.dir.tenants.get(user.tenantKey)!;
    const name = input.appName?.trim() || (tenant.brand === 'feishu' ? `${user.name}的智能助手` : `${user.name}'s Assistant`);
    const app = this.dir.createApp({ tenantKey: tenant.tenantKey, name, ownerUserId: user.id });
    reg.status = 'approved';
    reg.approval = { userId: user.id, appId: app.appId };
    return { app_id: app.appId, brand: tenant.brand };
  }

  deny(userCode: string): void {
    this.pendingByUserCode(userCode).status = 'denied';
  }

  list(status?: string): RegistrationView[] {
    const now = Date.now();
    const out: RegistrationView[] = [];
    for (const reg of this.byDeviceCode.values()) {
      const view: RegistrationView = {
        user_code: reg.userCode,
        brand: reg.brand,
        status: this.statusOf(reg, now),
        created_at: reg.createdAt,
        expires_at: reg.expiresAt,
        app_id: reg.approval?.appId ?? null,
        approved_by: reg.approval?.userId ?? null,
      };
      if (!status || view.status === status) out.push(view);
    }
    return out;
  }

  reset(): void {
    this.byDeviceCode.clear();
    this.byUserCode.clear();
  }

  private statusOf(reg: Registration, now: number): RegistrationStatus {
    if (reg.status !== 'completed' && now >= reg.expiresAt) return 'expired';
    return reg.status;
  }

  private pendingByUserCode(userCode: string): Registration {
    const reg = this.byUserCode.get(userCode.toUpperCase());
    if (!reg) throw new RegistrationError('not_found', `registration ${userCode} not found`);
    const status = this.statusOf(reg, Date.now());
    if (status !== 'pending') throw new RegistrationError('conflict', `registration ${userCode} is ${status}`);
    return reg;
  }

  private begin(brand: Brand, form: URLSearchParams, baseUrl: string): Reply {
    if (form.get('archetype') !== 'PersonalAgent') {
      return oauthError('invalid_request', 'archetype must be PersonalAgent');
    }
    if (form.get('auth_method') !== 'client_secret') {
      return oauthError('invalid_request', 'auth_method must be client_secret');
    }
    const now = Date.now();
    const reg: Registration = {
      deviceCode: newDeviceCode(),
      userCode: newUserCode(),
      brand,
      status: 'pending',
      createdAt: now,
      expiresAt: now + this.opts.expiresInSeconds * 1000,
      intervalMs: this.opts.intervalSeconds * 1000,
      lastPollAt: {},
    };
    this.byDeviceCode.set(reg.deviceCode, reg);
    this.byUserCode.set(reg.userCode, reg);
    const verificationUri = `${baseUrl}/approve`;
    return json(200, {
      device_code: reg.deviceCode,
      user_code: reg.userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(reg.userCode)}`,
      interval: this.opts.intervalSeconds,
      expires_in: this.opts.expiresInSeconds,
    });
  }

  private poll(hostBrand: Brand, deviceCode: string): Reply {
    const reg = this.byDeviceCode.get(deviceCode);
    if (!reg) return oauthError('invalid_grant', 'device_code is invalid');
    const now = Date.now();
    const previousPoll = reg.lastPollAt[hostBrand];
    reg.lastPollAt[hostBrand] = now;
    const status = this.statusOf(reg, now);
    switch (status) {
      case 'expired':
        return oauthError('expired_token', 'the device_code has expired');
      case 'denied':
        return oauthError('access_denied', 'the user denied the authorization request');
      case 'completed':
        return oauthError('invalid_grant', 'device_code has already been used');
      case 'pending':
        if (previousPoll !== undefined && now - previousPoll < reg.intervalMs - pollToleranceMs) {
          reg.intervalMs += slowDownStepMs;
          return oauthError('slow_down', `polling too fast: the interval is now ${reg.intervalMs / 1000}s`);
        }
        return oauthError('authorization_pending', 'the user has not approved the request yet');
      case 'approved':
        return this.approvedAnswer(reg, hostBrand);
    }
  }

  private approvedAnswer(reg: Registration, hostBrand: Brand): Reply {
    const { userId, appId } = reg.approval!;
    const app = this.dir.apps.get(appId);
    const user = this.dir.users.get(userId);
    if (!app || !user) return oauthError('invalid_grant', 'the approved app no longer exists');
    if (app.brand !== hostBrand) {
      // The approver's tenant is on the other brand: name it; these credentials are not valid anywhere.
      return json(200, {
        client_id: newAppId(),
        client_secret: newAppSecret(),
        user_info: { tenant_brand: app.brand },
      });
    }
    reg.status = 'completed';
    return json(200, {
      client_id: app.appId,
      client_secret: app.appSecret,
      user_info: { open_id: this.dir.userOpenId(app.appId, user.id), tenant_brand: app.brand },
    });
  }
}
