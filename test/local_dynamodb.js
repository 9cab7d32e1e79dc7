#!/usr/bin/env node
/*
 * local_dynamodb.js -- a local DynamoDB endpoint for the seqdist test suite.
 *
 * One Node process that runs:
 *
 *   1. dynalite (a real DynamoDB implementation, in memory, or on disk with
 *      --path), called in process, and
 *   2. in front of it, an HTTP/1.1 proxy on 127.0.0.1 that the extension talks
 *      to.  The proxy
 *        - verifies the AWS Signature Version 4 of every request with AWS's
 *          own signing code (@smithy/signature-v4) against a configured set
 *          of access keys (dynalite itself accepts any signature);
 *        - injects faults (latency, 5xx, throttling, hangs, resets, garbage
 *          answers, outages, lost responses) configured at run time through a
 *          small control API under /__control/ (no signature needed);
 *        - otherwise hands the request to dynalite unchanged and its answer
 *          back unchanged, with keep-alive to the clients.
 *
 * Usage:
 *   node local_dynamodb.js [--port N] [--port-file PATH] [--pid-file PATH]
 *       [--announce] [--log-file PATH] [--path DIR]
 *       [--credentials AKID:SECRET[:SESSIONTOKEN]]... [--region R]
 *       [--create-table-ms N] [--max-skew-s N] [--keepalive-ms N] [--verbose]
 *
 * Control API (plain HTTP on the proxy port, 127.0.0.1 only):
 *   POST /__control/faults  {"rules":[{"target":"UpdateItem"|"*","mode":M,
 *                            "count":N,"ms":N,"body":"..."}]}  replace rules
 *   GET  /__control/faults  current rules with their remaining counts
 *   GET  /__control/stats   request counters (see newStats below)
 *   POST /__control/reset   zero the counters, clear the rules
 *   POST /__control/put_item  a PutItem body, written to dynalite directly
 *
 * A rule applies to requests whose X-Amz-Target operation equals "target"
 * ("*" = all), "count" times (omitted = until the rules change); the first
 * matching rule with uses left wins.  "ms" is the latency for delay and a
 * wait before the fault for the other modes.  Modes:
 *   delay               wait ms, then forward normally
 *   http500             500 InternalServerError, not forwarded ("body" overrides)
 *   throttle            400 ProvisionedThroughputExceededException
 *   throttling          400 ThrottlingException
 *   requestlimit        400 RequestLimitExceeded
 *   hang                never answer; the socket is closed when the client
 *                       gives up, the rules change, on reset or shutdown
 *   reset               read the request, then TCP-reset the connection
 *   malformed           200 with a body that is not JSON ("body" overrides)
 *   wrongshape          200 with JSON of the wrong shape ("body" overrides)
 *   down                outage: close the connection as soon as the request
 *                       headers arrive (before authentication), and close
 *                       idle keep-alive connections when the rule is set
 *   after_forward_reset forward (dynalite applies it), then TCP-reset the
 *                       connection instead of answering: a lost response
 * Authentication is checked before every mode except down.
 *
 * --announce: once listening, print "PORT PID" on stdout, and nothing more.
 * The test scripts start it as their own child and read that line (they
 * stop it by pid and reap it; a server that detached itself would be left
 * to whatever reaps orphans, and some containers' init reaps none).
 * --log-file: append the log to PATH instead of stderr.
 * --path: keep the tables and items in DIR (a LevelDB database, created if
 * missing) instead of in memory, so that a server stopped and started again
 * with the same DIR (and --port) finds them as it left them.  Every write is
 * in DIR before it is answered, so a SIGKILL loses nothing answered.
 * --max-skew-s: accepted clock skew of X-Amz-Date (default 900, as AWS; 0 = off).
 * --keepalive-ms: idle timeout of client connections (default 0 = never).
 * The pid and port files are removed on a clean exit.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { EventEmitter } = require('events');
const dynalite = require('dynalite');
const { SignatureV4 } = require('@smithy/signature-v4');
const { HttpRequest } = require('@smithy/protocol-http');

const LISTEN_HOST = '127.0.0.1';
const API_PREFIX = 'DynamoDB_20120810.';
const CONTROL_PREFIX = '/__control/';

/* AWS error type prefixes, as the real service uses them. */
const DDB = 'com.amazonaws.dynamodb.v20120810#';
const CORAL = 'com.amazon.coral.service#';
const CORAL_AVAILABILITY = 'com.amazon.coral.availability#';

const MSG_BAD_SIGNATURE = 'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method.';
const MSG_BAD_TOKEN = 'The security token included in the request is invalid.';

const FAULT_MODES = new Set([
  'delay', 'http500', 'throttle', 'throttling', 'requestlimit', 'hang',
  'reset', 'malformed', 'wrongshape', 'down', 'after_forward_reset',
]);

/* Headers that belong to one connection and must not be relayed. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te',
  'trailer', 'upgrade', 'expect', 'content-length',
]);

/* ------------------------------------------------------------------------ */
/* Command line                                                              */
/* ------------------------------------------------------------------------ */

function usage(msg, exitCode = 2) {
  if (msg) process.stderr.write(`local_dynamodb: ${msg}\n`);
  process.stderr.write(
    'usage: local_dynamodb.js [--port N] [--port-file PATH] [--pid-file PATH]\n' +
    '         [--announce] [--log-file PATH] [--path DIR]\n' +
    '         [--credentials AKID:SECRET[:SESSIONTOKEN]]... [--region R]\n' +
    '         [--create-table-ms N] [--max-skew-s N] [--keepalive-ms N] [--verbose]\n');
  process.exit(exitCode);
}

function parseNonNegInt(name, value) {
  if (!/^\d+$/.test(String(value))) usage(`${name} needs a non-negative integer, got '${value}'`);
  return Number(value);
}

function parseArgs(argv) {
  const opts = {
    port: 0,
    portFile: null,
    pidFile: null,
    announce: false,
    logFile: null,
    path: null,                 // dynalite's LevelDB directory; null = in memory
    credentials: new Map(),     // access key id -> { secret, token }
    region: 'us-east-1',
    createTableMs: 0,
    maxSkewS: 900,              // AWS allows 15 minutes of clock skew; 0 = no check
    keepAliveMs: 0,             // idle keep-alive timeout of the proxy; 0 = never
    verbose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--port': opts.port = parseNonNegInt(arg, next()); break;
      case '--port-file': opts.portFile = next(); break;
      case '--pid-file': opts.pidFile = next(); break;
      case '--announce': opts.announce = true; break;
      case '--log-file': opts.logFile = next(); break;
      case '--path': opts.path = next(); break;
      case '--region': opts.region = next(); break;
      case '--create-table-ms': opts.createTableMs = parseNonNegInt(arg, next()); break;
      case '--max-skew-s': opts.maxSkewS = parseNonNegInt(arg, next()); break;
      case '--keepalive-ms': opts.keepAliveMs = parseNonNegInt(arg, next()); break;
      case '--verbose': opts.verbose = true; break;
      case '--credentials': {
        // AKID:SECRET[:SESSIONTOKEN]; the token is everything after the second colon.
        const spec = next();
        const first = spec.indexOf(':');
        if (first <= 0) usage(`--credentials needs AKID:SECRET[:TOKEN], got '${spec}'`);
        const akid = spec.slice(0, first);
        const rest = spec.slice(first + 1);
        const second = rest.indexOf(':');
        const secret = second < 0 ? rest : rest.slice(0, second);
        const token = second < 0 ? null : rest.slice(second + 1);
        if (!secret) usage(`--credentials '${spec}' has an empty secret`);
        opts.credentials.set(akid, { secret, token: token || null });
        break;
      }
      case '--help': case '-h': usage(null, 0); break;
      default: usage(`unknown argument '${arg}'`);
    }
  }
  if (opts.port > 65535) usage('--port out of range');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

let logFd = null;
if (opts.logFile) {
  try { logFd = fs.openSync(opts.logFile, 'a'); }
  catch (err) {
    process.stderr.write(`local_dynamodb: cannot open --log-file: ${err.message}\n`);
    process.exit(1);
  }
}

function log(msg) {
  const line = `local_dynamodb[${process.pid}]: ${msg}\n`;
  if (logFd === null) process.stderr.write(line);
  else fs.writeSync(logFd, line);
}
function vlog(msg) {
  if (opts.verbose) log(msg);
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

/* CRC32 (IEEE), as DynamoDB puts in the x-amz-crc32 response header. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) ? (0xEDB88320 ^ (c >>> 1)) : (c >>> 1);
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(buf) {
  let c = 0xFFFFFFFF;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xFF] ^ (c >>> 8);
  return (c ^ 0xFFFFFFFF) >>> 0;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function requestId() {
  return crypto.randomBytes(39).toString('base64').toUpperCase().replace(/[+/]/g, '0');
}

/* Write a file atomically: a temporary file in the same directory, then rename. */
function writeFileAtomic(file, content) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

/* Operation name from X-Amz-Target ("DynamoDB_20120810.UpdateItem" -> "UpdateItem"). */
function operationOf(req) {
  const target = req.headers['x-amz-target'];
  if (!target) return '(none)';
  return target.startsWith(API_PREFIX) ? target.slice(API_PREFIX.length) : target;
}

/* Send a body with DynamoDB-style headers (request id, CRC32, JSON 1.0 type). */
function sendRaw(res, status, body, extraHeaders) {
  const buf = Buffer.from(body, 'utf8');
  res.writeHead(status, Object.assign({
    'x-amzn-RequestId': requestId(),
    'x-amz-crc32': String(crc32(buf)),
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': buf.length,
  }, extraHeaders || {}));
  res.end(buf);
}

/* Send an AWS JSON error: {"__type": "<prefix>#Name", "message": "..."}. */
function sendAwsError(res, status, type, message) {
  const shortName = type.slice(type.indexOf('#') + 1);
  sendRaw(res, status, JSON.stringify({ __type: type, message }), { 'x-amzn-ErrorType': shortName });
}

function sendControlJson(res, status, obj) {
  const buf = Buffer.from(JSON.stringify(obj, null, 2) + '\n', 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': buf.length });
  res.end(buf);
}

/* ------------------------------------------------------------------------ */
/* Statistics and fault rules                                                */
/* ------------------------------------------------------------------------ */

/*
 * total               every non-control request that arrived
 * forwarded           requests that reached dynalite (includes delay and
 *                     after_forward_reset)
 * faulted             requests to which a fault rule applied (any mode,
 *                     including delay)
 * signature_failures  requests rejected by authentication (any reason)
 * upstream_errors     requests dynalite failed to take (answered 500)
 * by_operation        the same four counters per operation, and
 *                     first_date / last_date: the earliest and the latest
 *                     X-Amz-Date of its requests that passed authentication
 *                     (null until one did)
 * by_fault            faulted requests per mode
 * by_auth_error       authentication rejections per error type
 * in_flight           requests arrived and not yet answered (or dropped)
 * max_in_flight       the most requests in flight at once
 * max_signature_age_ms  the age, on arrival, of the oldest X-Amz-Date seen
 *                     (now - X-Amz-Date, so up to a second more than the
 *                     time since signing, the date having whole seconds),
 *                     over every request whose date was read, refused or not
 */
function newStats() {
  return {
    total: 0,
    forwarded: 0,
    faulted: 0,
    signature_failures: 0,
    upstream_errors: 0,
    by_operation: {},
    by_fault: {},
    by_auth_error: {},
    in_flight: 0,
    max_in_flight: 0,
    max_signature_age_ms: 0,
  };
}
let stats = newStats();

function opStats(op) {
  if (!stats.by_operation[op]) {
    stats.by_operation[op] = {
      total: 0, forwarded: 0, faulted: 0, signature_failures: 0, first_date: null, last_date: null,
    };
  }
  return stats.by_operation[op];
}

let rules = [];                  // active fault rules, first match wins
const hungSockets = new Set();   // sockets held open by 'hang'

/* Validate one rule from the control API; returns the internal form or throws. */
function parseRule(r, index) {
  const where = `rules[${index}]`;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error(`${where} must be an object`);
  for (const k of Object.keys(r)) {
    if (!['target', 'mode', 'count', 'ms', 'body'].includes(k)) throw new Error(`${where}: unknown field '${k}'`);
  }
  const target = r.target === undefined ? '*' : r.target;
  if (typeof target !== 'string' || target === '') throw new Error(`${where}.target must be an operation name or "*"`);
  if (!FAULT_MODES.has(r.mode)) throw new Error(`${where}.mode must be one of ${[...FAULT_MODES].join(', ')}`);
  let count = null;
  if (r.count !== undefined && r.count !== null) {
    if (!Number.isInteger(r.count) || r.count < 0) throw new Error(`${where}.count must be a non-negative integer`);
    count = r.count;
  }
  const ms = r.ms === undefined ? 0 : r.ms;
  if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) throw new Error(`${where}.ms must be a non-negative number`);
  if (r.body !== undefined && typeof r.body !== 'string') throw new Error(`${where}.body must be a string`);
  return { target, mode: r.mode, count, ms, body: r.body, remaining: count, applied: 0 };
}

function describeRules() {
  return rules.map((r) => ({
    target: r.target, mode: r.mode, count: r.count, ms: r.ms,
    ...(r.body !== undefined ? { body: r.body } : {}),
    remaining: r.remaining, applied: r.applied,
  }));
}

/* The first rule that matches this operation and still has uses left. */
function matchRule(op) {
  for (const r of rules) {
    if ((r.target === '*' || r.target === op) && (r.remaining === null || r.remaining > 0)) return r;
  }
  return null;
}

/* Take one use of a rule and count it. */
function consumeRule(r, op) {
  if (r.remaining !== null) r.remaining--;
  r.applied++;
  stats.faulted++;
  opStats(op).faulted++;
  stats.by_fault[r.mode] = (stats.by_fault[r.mode] || 0) + 1;
}

function releaseHungSockets() {
  for (const s of hungSockets) s.destroy();
  hungSockets.clear();
}

/* ------------------------------------------------------------------------ */
/* SigV4 verification                                                        */
/* ------------------------------------------------------------------------ */

class AuthError {
  constructor(type, message, detail) {
    this.type = type;
    this.message = message;
    this.detail = detail;     // for the log only
  }
}

/* Parse "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...". */
function parseAuthorization(header) {
  const trimmed = header.trim();
  const sp = trimmed.search(/\s/);
  const algorithm = sp < 0 ? trimmed : trimmed.slice(0, sp);
  const params = {};
  if (sp >= 0) {
    for (const part of trimmed.slice(sp + 1).split(',')) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf('=');
      if (eq < 0) throw new AuthError(CORAL + 'IncompleteSignatureException',
        `'${p}' not a valid key=value pair (missing equal-sign) in Authorization header: '${header}'.`);
      params[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    }
  }
  return { algorithm, params };
}

/* All values of one header (case-insensitive), joined as SigV4 wants (comma). */
function headerValues(req, lname) {
  const vals = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === lname) vals.push(req.rawHeaders[i + 1]);
  }
  return vals.length ? vals.join(',') : undefined;
}

/* Query string of a request target, decoded, as smithy expects it. */
function parseQuery(qs) {
  const query = {};
  if (!qs) return query;
  for (const part of qs.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    if (k in query) query[k] = [].concat(query[k], v);
    else query[k] = v;
  }
  return query;
}

/* "20240102T030405Z" -> Date, or null. */
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return Number.isNaN(d.getTime()) ? null : d;
}

/*
 * Verify the request's signature; resolves to its X-Amz-Date on success,
 * throws AuthError.
 *
 * The signature is recomputed by @smithy/signature-v4 over exactly the
 * headers the client listed in SignedHeaders.  Points where smithy's signer
 * would otherwise disagree with a correct client:
 *   - it adds x-amz-content-sha256 when applyChecksum is on: we turn it off;
 *   - it adds x-amz-security-token when the credentials carry a token: we
 *     give it credentials without a token and pass the header through as a
 *     signed header when the client signed it;
 *   - it drops any incoming Date / X-Amz-Date / Authorization and sets
 *     x-amz-date from signingDate: we pass the request's X-Amz-Date, and
 *     require that it is signed (as AWS does);
 *   - it trusts an x-amz-content-sha256 header as the payload hash: we check
 *     that header against the body ourselves first;
 *   - it skips "unsignable" headers (user-agent, ...) unless told they are
 *     signable: we pass SignedHeaders as signableHeaders.
 */
/*
 * SHA-256 and HMAC-SHA256 for smithy's signer, from Node's crypto (OpenSSL):
 * the interface smithy asks for (a constructor taking an optional HMAC key,
 * update, digest resolving to the bytes), at a fraction of the CPU of a
 * hash written in JavaScript.
 */
class NodeSha256 {
  constructor(secret) {
    this.secret = secret;
    this.reset();
  }

  update(data) {
    this.hash.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  digest() {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset() {
    this.hash = this.secret === undefined || this.secret === null
      ? crypto.createHash('sha256')
      : crypto.createHmac('sha256', typeof this.secret === 'string' ? Buffer.from(this.secret, 'utf8') : this.secret);
  }
}

/* One signer per key, region and service: smithy keeps the day's signing key. */
const signers = new Map();
function signerFor(akid, secret, region, service) {
  const id = `${akid}\n${secret}\n${region}\n${service}`;
  let signer = signers.get(id);
  if (!signer) {
    signer = new SignatureV4({
      credentials: { accessKeyId: akid, secretAccessKey: secret },
      region,
      service,
      sha256: NodeSha256,
      applyChecksum: false,
      uriEscapePath: true,        // DynamoDB (like every service but S3) uses the escaped path
    });
    signers.set(id, signer);
  }
  return signer;
}

async function verifySignature(req, body) {
  const authHeader = req.headers.authorization;
  if (!authHeader || !authHeader.trim().startsWith('AWS4-')) {
    throw new AuthError(CORAL + 'MissingAuthenticationTokenException', 'Request is missing Authentication Token');
  }
  const { algorithm, params } = parseAuthorization(authHeader);
  if (algorithm !== 'AWS4-HMAC-SHA256') {
    throw new AuthError(CORAL + 'IncompleteSignatureException',
      `Unsupported AWS 'algorithm': '${algorithm}' (only AWS4-HMAC-SHA256 for now). `);
  }
  let missing = '';
  for (const p of ['Credential', 'Signature', 'SignedHeaders']) {
    if (!params[p]) missing += `Authorization header requires '${p}' parameter. `;
  }
  const amzDateStr = req.headers['x-amz-date'];
  if (!amzDateStr) missing += 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header. ';
  if (missing) throw new AuthError(CORAL + 'IncompleteSignatureException', missing + 'Authorization=' + authHeader);

  const signingDate = parseAmzDate(amzDateStr);
  if (!signingDate) {
    throw new AuthError(CORAL + 'IncompleteSignatureException',
      `Date must be in ISO-8601 'basic format'. Got '${amzDateStr}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }

  // Credential scope: AKID/YYYYMMDD/region/service/aws4_request
  const scope = params.Credential.split('/');
  if (scope.length !== 5) {
    throw new AuthError(CORAL + 'IncompleteSignatureException',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${params.Credential}'`);
  }
  const [akid, scopeDate, scopeRegion, scopeService, scopeTerm] = scope;
  let scopeErr = '';
  if (scopeRegion !== opts.region) scopeErr += `Credential should be scoped to a valid region, not '${scopeRegion}'. `;
  if (scopeService !== 'dynamodb') scopeErr += 'Credential should be scoped to correct service: \'dynamodb\'. ';
  if (scopeTerm !== 'aws4_request') scopeErr += `Credential should be scoped with a valid terminator: 'aws4_request', not '${scopeTerm}'. `;
  if (scopeDate !== amzDateStr.slice(0, 8)) {
    scopeErr += `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDateStr.slice(0, 8)}', from '${amzDateStr}'.`;
  }
  if (scopeErr) throw new AuthError(CORAL + 'InvalidSignatureException', scopeErr.trim());

  const key = opts.credentials.get(akid);
  if (!key) throw new AuthError(DDB + 'UnrecognizedClientException', MSG_BAD_TOKEN, `unknown access key '${akid}'`);

  const signedHeaders = params.SignedHeaders.split(';').map((h) => h.trim().toLowerCase()).filter(Boolean);
  const signedSet = new Set(signedHeaders);

  // Session token: required (equal, and signed) for keys that have one; refused for keys that do not.
  const reqToken = req.headers['x-amz-security-token'];
  if (key.token !== null) {
    if (reqToken === undefined) throw new AuthError(DDB + 'UnrecognizedClientException', MSG_BAD_TOKEN, 'session token missing');
    if (reqToken !== key.token) throw new AuthError(DDB + 'UnrecognizedClientException', MSG_BAD_TOKEN, 'session token differs');
    if (!signedSet.has('x-amz-security-token')) {
      throw new AuthError(DDB + 'UnrecognizedClientException', MSG_BAD_TOKEN, 'session token not among the signed headers');
    }
  }
  else if (reqToken !== undefined) {
    throw new AuthError(DDB + 'UnrecognizedClientException', MSG_BAD_TOKEN, 'session token sent for a key that has none');
  }

  if (!signedSet.has('host')) {
    throw new AuthError(CORAL + 'InvalidSignatureException', '\'Host\' must be a \'SignedHeader\' in the AWS Authorization.');
  }
  if (!signedSet.has('x-amz-date')) {
    throw new AuthError(CORAL + 'InvalidSignatureException', '\'X-Amz-Date\' must be a \'SignedHeader\' in the AWS Authorization.');
  }

  // Clock skew, as AWS checks it (15 minutes by default).
  const now = Date.now();
  stats.max_signature_age_ms = Math.max(stats.max_signature_age_ms, now - signingDate.getTime());
  if (opts.maxSkewS > 0) {
    const skewMs = opts.maxSkewS * 1000;
    const fmt = (t) => new Date(t).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    if (signingDate.getTime() < now - skewMs) {
      throw new AuthError(CORAL + 'InvalidSignatureException',
        `Signature expired: ${amzDateStr} is now earlier than ${fmt(now - skewMs)} (${fmt(now)} - ${opts.maxSkewS / 60} min.)`);
    }
    if (signingDate.getTime() > now + skewMs) {
      throw new AuthError(CORAL + 'InvalidSignatureException',
        `Signature not yet current: ${amzDateStr} is still later than ${fmt(now + skewMs)} (${fmt(now)} + ${opts.maxSkewS / 60} min.)`);
    }
  }

  // A client-supplied payload hash must be the real one (smithy would trust it).
  // A mismatch is a tampered body: answer as for any other signature mismatch.
  const contentSha = req.headers['x-amz-content-sha256'];
  if (contentSha !== undefined) {
    const actual = crypto.createHash('sha256').update(body).digest('hex');
    if (contentSha.trim().toLowerCase() !== actual) {
      throw new AuthError(CORAL + 'InvalidSignatureException', MSG_BAD_SIGNATURE,
        'x-amz-content-sha256 does not match the body');
    }
  }

  // Only the signed headers go to the signer.
  const headers = {};
  for (const name of signedHeaders) {
    const v = headerValues(req, name);
    if (v === undefined) {
      throw new AuthError(CORAL + 'InvalidSignatureException', MSG_BAD_SIGNATURE, `signed header '${name}' is absent`);
    }
    headers[name] = v;
  }

  const qpos = req.url.indexOf('?');
  const request = new HttpRequest({
    method: req.method,
    protocol: 'http:',
    hostname: LISTEN_HOST,
    path: qpos < 0 ? req.url : req.url.slice(0, qpos),
    query: parseQuery(qpos < 0 ? '' : req.url.slice(qpos + 1)),
    headers,
    body,
  });

  const signer = signerFor(akid, key.secret, scopeRegion, scopeService);
  const signed = await signer.sign(request, {
    signingDate,
    signingRegion: scopeRegion,
    signingService: scopeService,
    signableHeaders: signedSet,
  });
  const ours = parseAuthorization(signed.headers.authorization).params;

  if (ours.SignedHeaders !== params.SignedHeaders) {
    throw new AuthError(CORAL + 'InvalidSignatureException', MSG_BAD_SIGNATURE,
      `signed header list '${params.SignedHeaders}' is not canonical (expected '${ours.SignedHeaders}')`);
  }
  const a = Buffer.from(ours.Signature, 'utf8');
  const b = Buffer.from(params.Signature, 'utf8');
  if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) {
    throw new AuthError(CORAL + 'InvalidSignatureException', MSG_BAD_SIGNATURE, 'signature mismatch');
  }
  return amzDateStr;
}

/* ------------------------------------------------------------------------ */
/* Forwarding to dynalite                                                    */
/* ------------------------------------------------------------------------ */

/*
 * dynalite runs in this process: a request goes to its request handler
 * directly, as the objects it reads and writes (the part of Node's request
 * and response it uses: headers, method, url, the body as 'data' and 'end'
 * events; setHeader, statusCode, end), not through a socket of its own.
 * Its semantics are the same; a second HTTP hop per request would only
 * spend the CPU that bounds how many requests a second the tests can send.
 */
let dynaliteHandler = null;

class DynaliteRequest extends EventEmitter {
  constructor(req, body) {
    super();
    this.method = req.method;
    this.url = req.url;
    this.headers = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      if (HOP_BY_HOP.has(name)) continue;
      const v = req.rawHeaders[i + 1];
      this.headers[name] = this.headers[name] === undefined ? v : `${this.headers[name]}, ${v}`;
    }
    this.headers['content-length'] = String(body.length);
  }
}

class DynaliteResponse {
  constructor(done) {
    this.statusCode = 200;
    this.headers = new Map();   // lower-case name -> [name, value]
    this.done = done;
  }
  setHeader(name, value) { this.headers.set(name.toLowerCase(), [name, String(value)]); }
  getHeader(name) { const h = this.headers.get(name.toLowerCase()); return h ? h[1] : undefined; }
  removeHeader(name) { this.headers.delete(name.toLowerCase()); }
  end(data) {
    const body = data === undefined ? Buffer.alloc(0) : Buffer.from(data);
    const out = [];
    for (const [lname, pair] of this.headers) if (!HOP_BY_HOP.has(lname)) out.push(pair);
    this.done({ status: this.statusCode, headers: out, body });
  }
}

/* Hand the request to dynalite; resolves {status, headers, body}. */
function forwardToDynalite(req, body) {
  return new Promise((resolve, reject) => {
    const dreq = new DynaliteRequest(req, body);
    const dres = new DynaliteResponse(resolve);
    try {
      dynaliteHandler(dreq, dres);
      if (body.length > 0) dreq.emit('data', body);
      dreq.emit('end');
    }
    catch (err) {
      reject(err);
    }
  });
}

function relay(res, answer) {
  const headers = {};
  for (const [k, v] of answer.headers) {
    headers[k] = headers[k] === undefined ? v : [].concat(headers[k], v);
  }
  headers['Content-Length'] = answer.body.length;
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/* Forward and count; if dynalite throws at once, answer 500 (a bug here or in dynalite). */
async function forward(req, res, body, op) {
  stats.forwarded++;
  opStats(op).forwarded++;
  try {
    return await forwardToDynalite(req, body);
  }
  catch (err) {
    stats.upstream_errors++;
    log(`upstream error for ${op}: ${err.message}`);
    sendAwsError(res, 500, DDB + 'InternalServerError', 'Internal server error');
    return null;
  }
}

/* ------------------------------------------------------------------------ */
/* Faults                                                                    */
/* ------------------------------------------------------------------------ */

/* Abort a client connection with a TCP reset (the client sees ECONNRESET). */
function resetSocket(socket) {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  }
  catch {
    socket.destroy();
  }
}

function wrongShapeBody(op) {
  if (op === 'UpdateItem') return '{"Attributes":{"value":{"S":"x"}}}';
  return '{}';
}

/* Apply a rule (already consumed) to a request whose body has been read. */
async function applyFault(rule, req, res, body, op) {
  const socket = req.socket;
  if (rule.mode !== 'delay' && rule.mode !== 'hang' && rule.ms > 0) await sleep(rule.ms);
  switch (rule.mode) {
    case 'delay': {                // extra latency, then the normal answer
      await sleep(rule.ms);
      const answer = await forward(req, res, body, op);
      if (answer) relay(res, answer);
      return;
    }
    case 'http500':
      if (rule.body !== undefined) return sendRaw(res, 500, rule.body);
      return sendAwsError(res, 500, DDB + 'InternalServerError', 'Internal server error');
    case 'throttle':
      return sendAwsError(res, 400, DDB + 'ProvisionedThroughputExceededException',
        'The level of configured provisioned throughput for the table was exceeded. ' +
        'Consider increasing your provisioning level with the UpdateTable API.');
    case 'throttling':
      return sendAwsError(res, 400, CORAL_AVAILABILITY + 'ThrottlingException',
        'Rate of requests exceeds the allowed throughput.');
    case 'requestlimit':
      return sendAwsError(res, 400, DDB + 'RequestLimitExceeded',
        'Throughput exceeds the current throughput limit for your account. ' +
        'Please contact AWS Support at https://aws.amazon.com/support request a limit increase');
    case 'hang':                   // never answer; released on rule change, reset, shutdown
      hungSockets.add(socket);
      socket.once('close', () => hungSockets.delete(socket));
      return;
    case 'reset':                  // TCP reset, no answer, nothing applied
      resetSocket(socket);
      return;
    case 'malformed':
      return sendRaw(res, 200, rule.body !== undefined ? rule.body : '{"Attributes":{"value":{"N":"1"');
    case 'wrongshape':
      return sendRaw(res, 200, rule.body !== undefined ? rule.body : wrongShapeBody(op));
    case 'down':                   // reached only if the rule appeared while the body was read
      socket.destroy();
      return;
    case 'after_forward_reset': {  // applied by dynalite, answer lost
      const answer = await forward(req, res, body, op);
      if (answer) resetSocket(socket);
      return;
    }
    default:
      throw new Error(`unhandled fault mode ${rule.mode}`);
  }
}

/* ------------------------------------------------------------------------ */
/* Control API                                                               */
/* ------------------------------------------------------------------------ */

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('client aborted')));
  });
}

async function handleControl(req, res) {
  const body = await readBody(req);
  const url = req.url.split('?')[0];
  if (url === '/__control/faults' && req.method === 'POST') {
    let parsed;
    try {
      parsed = JSON.parse(body.toString('utf8') || 'null');
      if (!parsed || !Array.isArray(parsed.rules)) throw new Error('body must be {"rules":[...]}');
      parsed = parsed.rules.map(parseRule);
    }
    catch (err) {
      return sendControlJson(res, 400, { error: err.message });
    }
    rules = parsed;
    releaseHungSockets();
    // An outage also ends the connections the clients keep idle.
    if (rules.some((r) => r.mode === 'down')) proxyServer.closeIdleConnections();
    log(`fault rules: ${JSON.stringify(describeRules())}`);
    return sendControlJson(res, 200, { rules: describeRules() });
  }
  if (url === '/__control/faults' && req.method === 'GET') {
    return sendControlJson(res, 200, { rules: describeRules() });
  }
  if (url === '/__control/stats' && req.method === 'GET') {
    return sendControlJson(res, 200, Object.assign({}, stats, {
      hanging: hungSockets.size,
      connections: openSockets.size,
      rules: describeRules(),
      port: proxyServer.address().port,
    }));
  }
  if (url === '/__control/put_item' && req.method === 'POST') {
    // An operator (or another tool) overwriting an item behind every
    // client's back: sent to dynalite directly, so no rule or check applies.
    const fake = {
      method: 'POST', url: '/',
      rawHeaders: [
        'Content-Type', 'application/x-amz-json-1.0',
        'X-Amz-Target', 'DynamoDB_20120810.PutItem',
        'X-Amz-Date', '20200101T000000Z',
        'Authorization', 'AWS4-HMAC-SHA256 Credential=AKIDCONTROL/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0',
      ],
    };
    const answer = await forwardToDynalite(fake, body);
    return sendControlJson(res, answer.status, JSON.parse(answer.body.toString('utf8') || '{}'));
  }
  if (url === '/__control/reset' && req.method === 'POST') {
    stats = newStats();
    rules = [];
    releaseHungSockets();
    log('reset: statistics zeroed, fault rules cleared');
    return sendControlJson(res, 200, { ok: true });
  }
  return sendControlJson(res, 404, { error: `no control endpoint ${req.method} ${url}` });
}

/* ------------------------------------------------------------------------ */
/* The proxy                                                                 */
/* ------------------------------------------------------------------------ */

async function handleRequest(req, res) {
  if (req.url.startsWith(CONTROL_PREFIX)) return handleControl(req, res);

  const op = operationOf(req);
  const started = Date.now();
  stats.total++;
  opStats(op).total++;
  // requests being handled at once, and the most ever (until a reset)
  const counted = stats;
  counted.in_flight++;
  counted.max_in_flight = Math.max(counted.max_in_flight, counted.in_flight);
  res.once('close', () => { counted.in_flight--; });

  // An outage refuses the request before reading or authenticating it.
  let rule = matchRule(op);
  if (rule && rule.mode === 'down') {
    consumeRule(rule, op);
    vlog(`${op}: down`);
    req.socket.destroy();
    return;
  }

  let body;
  try {
    body = await readBody(req);
  }
  catch {
    return;                      // client went away
  }

  let date;
  try {
    date = await verifySignature(req, body);
  }
  catch (err) {
    if (!(err instanceof AuthError)) throw err;
    stats.signature_failures++;
    opStats(op).signature_failures++;
    const shortName = err.type.slice(err.type.indexOf('#') + 1);
    stats.by_auth_error[shortName] = (stats.by_auth_error[shortName] || 0) + 1;
    vlog(`${op}: rejected ${shortName}${err.detail ? ` (${err.detail})` : ''}`);
    return sendAwsError(res, 400, err.type, err.message);
  }
  // the basic format of X-Amz-Date sorts as the time it names
  const signedOp = opStats(op);
  if (signedOp.first_date === null || date < signedOp.first_date) signedOp.first_date = date;
  if (signedOp.last_date === null || date > signedOp.last_date) signedOp.last_date = date;

  rule = matchRule(op);
  if (rule) {
    consumeRule(rule, op);
    vlog(`${op}: fault ${rule.mode}`);
    return applyFault(rule, req, res, body, op);
  }

  const answer = await forward(req, res, body, op);
  if (answer) {
    relay(res, answer);
    vlog(`${op}: ${answer.status} in ${Date.now() - started} ms`);
  }
}

const openSockets = new Set();
const proxyServer = http.createServer((req, res) => {
  handleRequest(req, res).catch((err) => {
    log(`internal error: ${err.stack || err}`);
    if (!res.headersSent) sendAwsError(res, 500, DDB + 'InternalServerError', 'Internal server error');
    else res.destroy();
  });
});
proxyServer.keepAliveTimeout = opts.keepAliveMs;
proxyServer.on('connection', (socket) => {
  openSockets.add(socket);
  socket.on('close', () => openSockets.delete(socket));
  socket.on('error', () => {});          // clients may vanish at any time
});
proxyServer.on('clientError', (err, socket) => {
  if (socket.writable && err.code !== 'ECONNRESET') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  }
  else socket.destroy();
});

/* Client errors must never end the process. */
process.on('uncaughtException', (err) => log(`uncaught exception (ignored): ${err.stack || err}`));
process.on('unhandledRejection', (err) => log(`unhandled rejection (ignored): ${err && err.stack ? err.stack : err}`));

/* ------------------------------------------------------------------------ */
/* Start and stop                                                            */
/* ------------------------------------------------------------------------ */

if (opts.path) {
  try { fs.mkdirSync(opts.path, { recursive: true }); }
  catch (err) {
    log(`cannot create --path ${opts.path}: ${err.message}`);
    process.exit(1);
  }
}
const dynaliteServer = dynalite({
  ...(opts.path ? { path: opts.path } : {}),
  createTableMs: opts.createTableMs,
  deleteTableMs: opts.createTableMs,
  updateTableMs: opts.createTableMs,
});

let shuttingDown = false;
function removeOwnFiles() {
  for (const f of [opts.pidFile, opts.portFile]) {
    if (!f) continue;
    try { fs.unlinkSync(f); } catch { /* already gone */ }
  }
}

function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`${signal}: shutting down`);
  const finish = () => {
    removeOwnFiles();
    process.exit(0);
  };
  // Never linger: whatever is still open after a short grace is dropped with the process.
  setTimeout(finish, 500);
  proxyServer.close();
  for (const s of openSockets) s.destroy();
  releaseHungSockets();
  dynaliteServer.close(() => finish());
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

function fatal(what, err) {
  log(`${what}: ${err.message}`);
  process.exit(1);
}

dynaliteHandler = dynaliteServer.listeners('request')[0];
proxyServer.once('error', (err) => fatal(`cannot listen on ${LISTEN_HOST}:${opts.port}`, err));
proxyServer.listen(opts.port, LISTEN_HOST, () => {
  const port = proxyServer.address().port;
  try {
    if (opts.pidFile) writeFileAtomic(opts.pidFile, `${process.pid}\n`);
    if (opts.portFile) writeFileAtomic(opts.portFile, `${port}\n`);
  }
  catch (err) {
    fatal('cannot write port/pid file', err);
  }
  if (opts.credentials.size === 0) log('warning: no --credentials given, every request will be refused');
  log(`listening on ${LISTEN_HOST}:${port} (dynalite in this process, region ${opts.region}` +
    `${opts.path ? `, data in ${opts.path}` : ', data in memory'})`);
  if (opts.announce) fs.writeSync(1, `${port} ${process.pid}\n`);
});
