// An independent OpenID provider for tests/interop: panva's oidc-provider (from npm,
// installed by `npm ci --prefix tests/browser`), not our code. It listens on loopback
// (on OIDC_PORT, else on a random port), prints {"issuer": ...} as one line once it
// answers, and stops when its standard input closes (it never outlives its test).
//
// Clients get tokens through the client_credentials grant. Access tokens are JWTs
// (RFC 9068) for the resource they name (RFC 8707 resource indicators), signed with a
// key made at start-up and published in the provider's JWKS, with the client's roles
// where Keycloak puts them: realm_access.roles.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const modules = process.env.OIDC_PROVIDER_MODULES
  || new URL('../browser/package.json', import.meta.url).pathname;
const { default: Provider, errors } = await import(
  pathToFileURL(createRequire(modules).resolve('oidc-provider')).href
);

// The APIs this provider issues tokens for: the garage's, and somebody else's.
const resources = JSON.parse(process.env.OIDC_RESOURCES || '["https://garage.test/api"]');
// client_id -> { secret, roles }
const clients = JSON.parse(process.env.OIDC_CLIENTS || '{}');

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `interop-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };

const server = createServer();
server.listen(Number(process.env.OIDC_PORT || 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: Object.entries(clients).map(([clientId, client]) => ({
      client_id: clientId,
      client_secret: client.secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resources[0],
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          if (!resources.includes(resource)) throw new errors.InvalidTarget();
          return {
            scope: 'api',
            audience: resource,
            accessTokenTTL: 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    extraTokenClaims: (ctx, token) => ({
      realm_access: { roles: clients[token.clientId]?.roles ?? [] },
    }),
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
