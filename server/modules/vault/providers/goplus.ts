import { createHash } from 'node:crypto';
import { UpstreamError } from '../../../upstream/error';
import { unlimited, type RetryPolicy } from '../../../upstream/policy';
import { requestJson } from '../../../upstream/request';
import { RefreshError, SecretsInputError, type Provider } from './types';

interface TokenAnswer {
  code: number;
  message?: string;
  result?: { access_token?: string; expires_in?: number } | null;
}

/** GoPlus: app key and secret → a signed request → an access token with a lifetime. */
export function goplusProvider(opts: { baseUrl: string; policy: RetryPolicy; now: () => number }): Provider {
  return {
    name: 'goplus',

    parseSecrets(input) {
      if (!input.appKey || !input.appSecret)
        throw new SecretsInputError('GoPlus needs both appKey and appSecret (from your GoPlus developer dashboard).');
      return { appKey: input.appKey, appSecret: input.appSecret };
    },

    expiresAt: (s) => (s.expiresAt ? new Date(Number(s.expiresAt)) : null),

    needsRefresh: (s) => !s.accessToken,

    async refresh(s) {
      // The lifetime counts from when GoPlus answered; counting from the request keeps our view of it on the safe side.
      const sent = opts.now();
      const time = Math.floor(sent / 1000);
      const sign = createHash('sha1').update(`${s.appKey}${time}${s.appSecret}`).digest('hex');
      let body: TokenAnswer;
      try {
        body = await requestJson<TokenAnswer>({
          service: 'GoPlus',
          url: `${opts.baseUrl}/api/v1/token`,
          init: {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ app_key: s.appKey, time, sign }),
          },
          budget: unlimited,
          policy: opts.policy,
        });
      } catch (err) {
        const why = err instanceof UpstreamError ? err.message : 'GoPlus failed';
        throw new RefreshError('transient', `${why}: the scheduler retries later (check GOPLUS_URL if it persists).`);
      }
      if (typeof body?.code !== 'number')
        throw new RefreshError(
          'transient',
          'GoPlus answered the token request in an unexpected format: the scheduler retries later.',
        );
      if (body.code === 4011)
        throw new RefreshError(
          'configuration',
          "GoPlus says the request time is out of range: set this server's clock right (NTP).",
        );
      if (body.code === 4012)
        throw new RefreshError(
          'configuration',
          'GoPlus rejected the signature: the app key or secret is wrong; save the right pair on the Vault page or fix GOPLUS_APP_KEY / GOPLUS_APP_SECRET.',
        );
      const token = body.result?.access_token;
      const lifetime = body.result?.expires_in ?? 0;
      if (body.code !== 1 || !token || lifetime <= 0)
        throw new RefreshError(
          'transient',
          `GoPlus returned no access token (code ${body.code}): the scheduler retries later.`,
        );
      return { ...s, accessToken: token, expiresAt: String(sent + lifetime * 1000) };
    },

    isExpiredAnswer: (err) => err instanceof UpstreamError && err.status === 401,
  };
}
