#!/usr/bin/env node
/*
 * credential_provider.js -- a loopback server that issues temporary AWS
 * credentials the way one of the real providers does, for the credential
 * tests (there is no metadata service, container agent or STS here):
 *
 *   --mode imds       EC2 instance metadata, IMDSv2: PUT /latest/api/token
 *                     with X-aws-ec2-metadata-token-ttl-seconds (1..21600)
 *                     gives a session token; every GET under /latest/ needs
 *                     a valid one in X-aws-ec2-metadata-token (an IMDSv1
 *                     GET without it gets 401, as with HttpTokens=required);
 *                     GET /latest/meta-data/iam/security-credentials/ names
 *                     the role, and .../<role> gives its credentials as JSON.
 *   --mode container  the ECS / EKS Pod Identity credentials endpoint: GET
 *                     --path with the Authorization header --auth-token
 *                     (401 without it, 403 when it differs) gives JSON.
 *   --mode sts        STS AssumeRoleWithWebIdentity over the Query API (POST
 *                     form body, or GET query string), unsigned: RoleArn and
 *                     WebIdentityToken must be --role-arn and --web-identity-token,
 *                     RoleSessionName must be 2-64 of [\w+=,.@-]; the answer
 *                     is the documented XML, errors the documented
 *                     ErrorResponse.  Also STS AssumeRole (POST form body),
 *                     signed with SigV4 (service "sts", --region) by the key
 *                     pair --source-credentials AKID:SECRET, the signature
 *                     checked with @smithy/signature-v4; ExternalId must be
 *                     --external-id when that is given.
 *
 * Credentials: --credentials AKID:SECRET:TOKEN, repeatable; each issue hands
 * out the next one (the last one again when they run out), expiring
 * --lifetime seconds after the request (default 3600).
 *
 * Control (for the tests), on the same port: POST /__control with a JSON
 * object {"fail": "none"|"http500"|"hang"|"reset", "lifetime": N,
 * "delay": MS} changes the behaviour (delay: every answer waits that long);
 * GET /__stats answers {"issued": N, "requests": N}.
 *
 * The log file gets one line per request ("<method> <path> -> <status>"),
 * never a token or a secret.
 *
 * Usage: node credential_provider.js --mode M --log-file PATH [--port N]
 *   [--announce] [--credentials A:S:T]... [--lifetime S] [--role NAME]
 *   [--path P] [--auth-token T] [--role-arn A] [--web-identity-token T]
 *   [--source-credentials AKID:SECRET] [--region R] [--external-id X]
 *   --announce: once listening, print "PORT PID" on stdout, and nothing more.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const opts = {
  mode: null, port: 0, announce: false, logFile: null, credentials: [], lifetime: 3600,
  role: 'seqdist-role', path: '/v2/credentials/seqdist', authToken: null,
  roleArn: 'arn:aws:iam::123456789012:role/seqdist', webIdentityToken: null,
  source: null, region: 'us-east-1', externalId: null,
};
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  const next = () => {
    if (i + 1 >= process.argv.length) fail(`${arg} needs a value`);
    return process.argv[++i];
  };
  switch (arg) {
    case '--mode': opts.mode = next(); break;
    case '--port': opts.port = Number(next()); break;
    case '--announce': opts.announce = true; break;
    case '--log-file': opts.logFile = next(); break;
    case '--lifetime': opts.lifetime = Number(next()); break;
    case '--role': opts.role = next(); break;
    case '--path': opts.path = next(); break;
    case '--auth-token': opts.authToken = next(); break;
    case '--role-arn': opts.roleArn = next(); break;
    case '--web-identity-token': opts.webIdentityToken = next(); break;
    case '--region': opts.region = next(); break;
    case '--external-id': opts.externalId = next(); break;
    case '--source-credentials': {
      const [akid, secret] = next().split(':');
      if (!akid || !secret) fail('--source-credentials needs AKID:SECRET');
      opts.source = { akid, secret };
      break;
    }
    case '--credentials': {
      const [akid, secret, ...token] = next().split(':');
      if (!akid || !secret || token.length === 0) fail('--credentials needs AKID:SECRET:TOKEN');
      opts.credentials.push({ akid, secret, token: token.join(':') });
      break;
    }
    default: fail(`unknown argument ${arg}`);
  }
}
if (!['imds', 'container', 'sts'].includes(opts.mode)) fail('--mode must be imds, container or sts');
if (!opts.logFile) fail('--log-file is required');
if (opts.credentials.length === 0) fail('at least one --credentials is required');
if (opts.mode === 'sts' && !opts.webIdentityToken && !opts.source) {
  fail('--mode sts needs --web-identity-token or --source-credentials');
}

function fail(msg) {
  process.stderr.write(`credential_provider.js: ${msg}\n`);
  process.exit(2);
}

function log(line) {
  fs.appendFileSync(opts.logFile, `${new Date().toISOString()} ${line}\n`);
}

const state = { fail: 'none', lifetime: opts.lifetime, delay: 0, issued: 0, requests: 0 };
const imdsTokens = new Map();   // session token -> expiry (ms)

// The next credentials to hand out, with their expiry
function issue() {
  const c = opts.credentials[Math.min(state.issued, opts.credentials.length - 1)];
  state.issued++;
  const expiration = new Date(Date.now() + state.lifetime * 1000);
  return { ...c, expiration: expiration.toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function credentialsJson(c, extra) {
  return JSON.stringify({
    ...extra,
    AccessKeyId: c.akid,
    SecretAccessKey: c.secret,
    Token: c.token,
    Expiration: c.expiration,
  });
}

function imds(req, res, url) {
  if (req.method === 'PUT' && url.pathname === '/latest/api/token') {
    if (req.headers['x-forwarded-for'] !== undefined) return send(res, 403, 'text/plain', 'Forbidden');
    const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return send(res, 400, 'text/plain', 'Bad Request');
    const token = crypto.randomBytes(24).toString('base64');
    imdsTokens.set(token, Date.now() + ttl * 1000);
    return send(res, 200, 'text/plain', token);
  }
  if (req.method !== 'GET') return send(res, 405, 'text/plain', 'Method Not Allowed');
  const token = req.headers['x-aws-ec2-metadata-token'];
  if (token === undefined || !(imdsTokens.get(token) > Date.now())) {
    return send(res, 401, 'text/plain', 'Unauthorized');
  }
  const base = '/latest/meta-data/iam/security-credentials/';
  if (url.pathname === base) return send(res, 200, 'text/plain', opts.role);
  if (url.pathname === base + opts.role) {
    const c = issue();
    return send(res, 200, 'text/plain', credentialsJson(c, {
      Code: 'Success', LastUpdated: new Date().toISOString(), Type: 'AWS-HMAC',
    }));
  }
  return send(res, 404, 'text/plain', 'Not Found');
}

function container(req, res, url) {
  if (req.method !== 'GET' || url.pathname !== opts.path) return send(res, 404, 'application/json', '{"code":"NotFound"}');
  if (opts.authToken !== null) {
    const auth = req.headers.authorization;
    if (auth === undefined) return send(res, 401, 'application/json', '{"code":"Unauthorized","message":"no Authorization header"}');
    if (auth !== opts.authToken) return send(res, 403, 'application/json', '{"code":"Forbidden","message":"wrong authorization token"}');
  }
  const c = issue();
  return send(res, 200, 'application/json', credentialsJson(c, { RoleArn: opts.roleArn }));
}

function stsError(res, status, code, message) {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return send(res, status, 'text/xml',
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n' +
    `  <Error>\n    <Type>${type}</Type>\n    <Code>${code}</Code>\n    <Message>${message}</Message>\n  </Error>\n` +
    `  <RequestId>${crypto.randomUUID()}</RequestId>\n</ErrorResponse>\n`);
}

// The signature of an AssumeRole request, checked with an independent signer;
// resolves to an error text, or null when it is right.
async function stsSignatureProblem(req, body) {
  const { SignatureV4 } = require('@smithy/signature-v4');
  const { HttpRequest } = require('@smithy/protocol-http');
  const { Sha256 } = require('@aws-crypto/sha256-js');
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth.trim());
  if (!m) return 'no SigV4 Authorization header';
  const [akid, day, region, service, term] = m[1].split('/');
  if (akid !== opts.source.akid) return `unknown access key ${akid}`;
  if (region !== opts.region || service !== 'sts' || term !== 'aws4_request') return `wrong scope ${m[1]}`;
  const amzDate = req.headers['x-amz-date'] || '';
  if (day !== amzDate.slice(0, 8)) return 'scope date differs from X-Amz-Date';
  const signed = m[2].split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date')) return 'Host and X-Amz-Date must be signed';
  const headers = {};
  for (const h of signed) {
    if (req.headers[h] === undefined) return `signed header ${h} is absent`;
    headers[h] = req.headers[h];
  }
  const when = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T` +
    `${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  if (Number.isNaN(when.getTime()) || Math.abs(Date.now() - when.getTime()) > 15 * 60 * 1000) return 'X-Amz-Date is not current';
  const signer = new SignatureV4({
    credentials: { accessKeyId: akid, secretAccessKey: opts.source.secret },
    region, service: 'sts', sha256: Sha256, applyChecksum: false, uriEscapePath: true,
  });
  const ours = await signer.sign(new HttpRequest({
    method: req.method, protocol: 'http:', hostname: '127.0.0.1', path: req.url.split('?')[0],
    query: {}, headers, body,
  }), { signingDate: when, signingRegion: region, signingService: 'sts', signableHeaders: new Set(signed) });
  const sig = /Signature=([0-9a-f]{64})/.exec(ours.headers.authorization)[1];
  return sig === m[3] ? null : 'signature mismatch';
}

function stsCredentials(res, action, session) {
  const c = issue();
  return send(res, 200, 'text/xml',
    `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n` +
    `  <${action}Result>\n` +
    (action === 'AssumeRoleWithWebIdentity'
      ? '    <SubjectFromWebIdentityToken>system:serviceaccount:default:seqdist</SubjectFromWebIdentityToken>\n' +
        '    <Audience>sts.amazonaws.com</Audience>\n'
      : '') +
    `    <AssumedRoleUser>\n      <Arn>${opts.roleArn}/${session}</Arn>\n      <AssumedRoleId>AROAEXAMPLE:${session}</AssumedRoleId>\n    </AssumedRoleUser>\n` +
    '    <Credentials>\n' +
    `      <SessionToken>${c.token}</SessionToken>\n` +
    `      <SecretAccessKey>${c.secret}</SecretAccessKey>\n` +
    `      <Expiration>${c.expiration}</Expiration>\n` +
    `      <AccessKeyId>${c.akid}</AccessKeyId>\n` +
    '    </Credentials>\n' +
    `  </${action}Result>\n` +
    `  <ResponseMetadata>\n    <RequestId>${crypto.randomUUID()}</RequestId>\n  </ResponseMetadata>\n` +
    `</${action}Response>\n`);
}

async function sts(req, res, url, body) {
  const params = req.method === 'POST' ? new URLSearchParams(body) : url.searchParams;
  const action = params.get('Action');
  if (action !== 'AssumeRoleWithWebIdentity' && action !== 'AssumeRole') return stsError(res, 400, 'InvalidAction', 'Unknown action.');
  if (params.get('Version') !== '2011-06-15') return stsError(res, 400, 'InvalidParameterValue', 'Unknown version.');
  const session = params.get('RoleSessionName');
  if (session === null || !/^[\w+=,.@-]{2,64}$/.test(session)) {
    return stsError(res, 400, 'ValidationError', 'RoleSessionName is not valid.');
  }
  if (action === 'AssumeRole') {
    if (!opts.source || req.method !== 'POST') return stsError(res, 400, 'InvalidAction', 'AssumeRole is not served here.');
    const problem = await stsSignatureProblem(req, body);
    if (problem) {
      log(`AssumeRole refused: ${problem}`);
      return stsError(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    if (opts.externalId !== null && params.get('ExternalId') !== opts.externalId) {
      return stsError(res, 403, 'AccessDenied', 'Not authorized to perform sts:AssumeRole (external id).');
    }
  }
  else {
    if (req.headers.authorization !== undefined) return stsError(res, 400, 'InvalidParameterValue', 'AssumeRoleWithWebIdentity is not signed.');
    if (!opts.webIdentityToken || params.get('WebIdentityToken') !== opts.webIdentityToken) {
      return stsError(res, 400, 'InvalidIdentityToken', 'The web identity token that was passed could not be validated by AWS.');
    }
  }
  if (params.get('RoleArn') !== opts.roleArn) {
    return stsError(res, 403, 'AccessDenied', `Not authorized to perform sts:${action}.`);
  }
  return stsCredentials(res, action, session);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://127.0.0.1');
    res.on('finish', () => log(`${req.method} ${url.pathname} -> ${res.statusCode}`));
    if (url.pathname === '/__control' && req.method === 'POST') {
      const change = JSON.parse(body || '{}');
      if (change.fail !== undefined) state.fail = change.fail;
      if (change.lifetime !== undefined) state.lifetime = change.lifetime;
      if (change.delay !== undefined) state.delay = change.delay;
      return send(res, 200, 'application/json', JSON.stringify(state));
    }
    if (url.pathname === '/__stats') {
      return send(res, 200, 'application/json', JSON.stringify({ issued: state.issued, requests: state.requests }));
    }
    state.requests++;
    if (state.fail === 'hang') {
      log(`${req.method} ${url.pathname} -> (no answer)`);
      return;
    }
    if (state.fail === 'reset') {
      log(`${req.method} ${url.pathname} -> (connection reset)`);
      req.socket.destroy();
      return;
    }
    const answer = () => {
      if (state.fail === 'http500') return send(res, 500, 'text/plain', 'Internal Server Error');
      if (opts.mode === 'imds') return imds(req, res, url);
      if (opts.mode === 'container') return container(req, res, url);
      return sts(req, res, url, body).catch((e) => {
        log(`STS failure: ${e && e.message}`);
        send(res, 500, 'text/plain', 'Internal Server Error');
      });
    };
    if (state.delay > 0) setTimeout(answer, state.delay);
    else answer();
  });
});

server.listen(opts.port, '127.0.0.1', () => {
  const { port } = server.address();
  log(`listening on 127.0.0.1:${port} as ${opts.mode}`);
  if (opts.announce) process.stdout.write(`${port} ${process.pid}\n`);
});
process.on('SIGTERM', () => process.exit(0));
