#!/usr/bin/env node
/*
 * local_dynamodb_selftest.js -- self-test of local_dynamodb.js and
 * dynamo_control.sh.
 *
 * Starts local_dynamodb.js as a child process on an ephemeral port, talks to
 * it with requests signed by @smithy/signature-v4 (the AWS SDK's signer) and
 * checks signature verification, the DynamoDB operations the extension uses,
 * every fault mode, the statistics, the control script and clean shutdown.
 * Output is TAP; the exit status is non-zero if any check fails.  The child
 * is always stopped (by its pid), even when a check throws.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
'use strict';

const http = require('http');
const net = require('net');
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn, execFile } = require('child_process');
const { SignatureV4 } = require('@smithy/signature-v4');
const { HttpRequest } = require('@smithy/protocol-http');
const { Sha256 } = require('@aws-crypto/sha256-js');

const HERE = __dirname;
const TABLE = 'seqdist_selftest';
const KEY = { akid: 'AKIDSELFTEST', secret: 'selftest/secret+KEY' };
const SESSION_KEY = { akid: 'ASIASELFTEST', secret: 'session/secret', token: 'IQoJb3JpZ2luX2VjEXAMPLE+/token==' };

/* ------------------------------------------------------------------------ */
/* TAP                                                                       */
/* ------------------------------------------------------------------------ */

let testNo = 0;
let failures = 0;
function ok(cond, name, diag) {
  testNo++;
  if (cond) {
    process.stdout.write(`ok ${testNo} - ${name}\n`);
  }
  else {
    failures++;
    process.stdout.write(`not ok ${testNo} - ${name}\n`);
    if (diag !== undefined) {
      const text = typeof diag === 'string' ? diag : JSON.stringify(diag);
      for (const line of text.split('\n')) process.stdout.write(`# ${line}\n`);
    }
  }
  return cond;
}
function note(msg) {
  for (const line of String(msg).split('\n')) process.stdout.write(`# ${line}\n`);
}

/* ------------------------------------------------------------------------ */
/* Child process                                                             */
/* ------------------------------------------------------------------------ */

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-dynamodb-selftest-'));
const portFile = path.join(tmpDir, 'port');
const pidFile = path.join(tmpDir, 'pid');
let child = null;
let childExit = null;          // promise of {code, signal}
let childLog = '';
let port = 0;

function startChild() {
  child = spawn(process.execPath, [
    path.join(HERE, 'local_dynamodb.js'),
    '--port', '0',
    '--port-file', portFile,
    '--pid-file', pidFile,
    '--credentials', `${KEY.akid}:${KEY.secret}`,
    '--credentials', `${SESSION_KEY.akid}:${SESSION_KEY.secret}:${SESSION_KEY.token}`,
    '--region', 'us-east-1',
    '--create-table-ms', '0',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => { childLog += d; });
  child.stderr.on('data', (d) => { childLog += d; });
  childExit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

/* Servers started with --announce, as the test scripts start them. */
const announced = [];

/* Stop the children by their pids if they still run (used on every exit path). */
function killChild() {
  for (const c of [child, ...announced]) {
    if (c && c.exitCode === null && c.signalCode === null) {
      try { process.kill(c.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}
process.on('exit', () => {
  killChild();
  fs.rmSync(tmpDir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killChild(); process.exit(1); });
}

/*
 * Start local_dynamodb.js with --announce and the given arguments; resolves
 * once it has printed a line or exited: {proc, stdout, stderr, exit}, exit
 * a promise of {code, signal}.
 */
function startAnnounced(args) {
  const proc = spawn(process.execPath, [path.join(HERE, 'local_dynamodb.js'), '--announce', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  announced.push(proc);
  const run = { proc, stdout: '', stderr: '' };
  run.exit = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  proc.stdout.on('data', (d) => { run.stdout += d; });
  proc.stderr.on('data', (d) => { run.stderr += d; });
  return Promise.race([waitFor(() => run.stdout.includes('\n'), 15000, 'the announcement'), run.exit])
    .then(() => run);
}

async function waitFor(pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/* ------------------------------------------------------------------------ */
/* HTTP                                                                      */
/* ------------------------------------------------------------------------ */

const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/*
 * Send one request; resolves {status, headers, text, json, elapsed, reused}
 * or {error} (transport failure: reset, closed, timeout).
 */
function send({ method = 'POST', urlPath = '/', headers = {}, body = '', timeoutMs = 5000, agent = keepAliveAgent }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const buf = Buffer.from(body, 'utf8');
    const req = http.request({
      host: '127.0.0.1', port, method, path: urlPath, agent,
      headers: Object.assign({}, headers, { 'Content-Length': String(buf.length) }),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json, elapsed: Date.now() - started, reused: req.reusedSocket });
      });
      res.on('error', (err) => resolve({ error: err, elapsed: Date.now() - started }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', (err) => resolve({ error: err, elapsed: Date.now() - started }));
    req.end(buf);
  });
}

/* Sign a DynamoDB request with smithy and return its headers. */
async function signedHeaders(op, bodyText, {
  key = KEY, region = 'us-east-1', applyChecksum = true, signingDate = new Date(), extraHeaders = {},
} = {}) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: key.akid, secretAccessKey: key.secret, sessionToken: key.token },
    region, service: 'dynamodb', sha256: Sha256, applyChecksum,
  });
  const request = new HttpRequest({
    method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port, path: '/',
    headers: Object.assign({
      host: `127.0.0.1:${port}`,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${op}`,
    }, extraHeaders),
    body: bodyText,
  });
  const signed = await signer.sign(request, { signingDate });
  return signed.headers;
}

/* A correctly signed DynamoDB call. */
async function ddb(op, payload, opts = {}) {
  const body = JSON.stringify(payload);
  return send({ headers: await signedHeaders(op, body, opts), body, timeoutMs: opts.timeoutMs,
    ...(opts.agent ? { agent: opts.agent } : {}) });
}

function runControlScript(onPort, ...args) {
  return new Promise((resolve) => {
    execFile(path.join(HERE, 'dynamo_control.sh'), [String(onPort), ...args], { timeout: 15000 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

/* The control API through dynamo_control.sh, the client the test scripts use. */
async function control(...args) {
  const c = await runControlScript(port, ...args);
  if (c.code !== 0) throw new Error(`dynamo_control.sh ${args.join(' ')}: exit ${c.code}: ${c.stderr}${c.stdout}`);
  return JSON.parse(c.stdout);
}
const setFaults = (rules) => control('faults', JSON.stringify({ rules }));
const getStats = () => control('stats');
const resetControl = () => control('reset');

function crc32(buf) {
  let c = 0xFFFFFFFF;
  for (let i = 0; i < buf.length; i++) {
    c ^= buf[i];
    for (let k = 0; k < 8; k++) c = (c & 1) ? (0xEDB88320 ^ (c >>> 1)) : (c >>> 1);
  }
  return (c ^ 0xFFFFFFFF) >>> 0;
}

/* ------------------------------------------------------------------------ */
/* Requests used by the tests                                                */
/* ------------------------------------------------------------------------ */

const getValue = () => ddb('GetItem', { TableName: TABLE, Key: { name: { S: 'seq1' } }, ConsistentRead: true });
const readValue = async () => {
  const r = await getValue();
  return r.json && r.json.Item ? r.json.Item.value.N : `(unreadable: ${r.text})`;
};
/* Conditional block reservation, as the extension does it. */
const reserve = (old, step) => ddb('UpdateItem', {
  TableName: TABLE,
  Key: { name: { S: 'seq1' } },
  UpdateExpression: 'SET #v = #v + :step',
  ConditionExpression: '#v = :old',
  ExpressionAttributeNames: { '#v': 'value' },
  ExpressionAttributeValues: { ':old': { N: String(old) }, ':step': { N: String(step) } },
  ReturnValues: 'UPDATED_NEW',
});
const addOne = () => ddb('UpdateItem', {
  TableName: TABLE,
  Key: { name: { S: 'seq1' } },
  UpdateExpression: 'ADD #v :one',
  ExpressionAttributeNames: { '#v': 'value' },
  ExpressionAttributeValues: { ':one': { N: '1' } },
  ReturnValues: 'UPDATED_NEW',
});

const isAwsError = (r, status, shortName) => r.status === status && r.json &&
  typeof r.json.__type === 'string' && r.json.__type.endsWith(`#${shortName}`);
const transportFailed = (r) => r.error !== undefined;

/* ------------------------------------------------------------------------ */
/* The tests                                                                 */
/* ------------------------------------------------------------------------ */

async function main() {
  startChild();
  port = Number(await waitFor(() => {
    try { return fs.readFileSync(portFile, 'utf8').trim() || null; } catch { return null; }
  }, 15000, 'the port file'));
  ok(port > 0, `listening, port file says ${port}`);
  ok(fs.readFileSync(pidFile, 'utf8').trim() === String(child.pid), 'pid file holds the child pid');

  /* --- Start-up as the test scripts do it: --announce, --log-file ------ */

  const logFile = path.join(tmpDir, 'announced.log');
  const a = await startAnnounced(['--port', '0', '--log-file', logFile, '--credentials', `${KEY.akid}:${KEY.secret}`]);
  const [aPort, aPid] = a.stdout.trim().split(' ').map(Number);
  ok(/^\d+ \d+\n$/.test(a.stdout) && aPid === a.proc.pid && aPort > 0 && aPort !== port,
    `--announce: "PORT PID" once listening (${a.stdout.trim()})`, a);
  const aStats = await runControlScript(aPort, 'stats');
  ok(aStats.code === 0 && JSON.parse(aStats.stdout).total === 0, '--announce: the announced port answers', aStats);
  process.kill(aPid, 'SIGTERM');
  const aExit = await a.exit;
  const aLog = fs.readFileSync(logFile, 'utf8');
  ok(aExit.code === 0 && a.stderr === '' && /listening on/.test(aLog) && /SIGTERM: shutting down/.test(aLog),
    '--log-file: the log goes to the file, none to stderr', { aExit, stderr: a.stderr, aLog });
  const busy = await startAnnounced(['--port', String(port), '--log-file', logFile]);
  const busyExit = await busy.exit;
  ok(busyExit.code === 1 && busy.stdout === '' && /cannot listen/.test(fs.readFileSync(logFile, 'utf8')),
    '--announce: a server that cannot listen exits 1 and announces nothing', { busyExit, stdout: busy.stdout });

  /* --- DynamoDB operations through the proxy, valid signatures --------- */

  let r = await ddb('CreateTable', {
    TableName: TABLE,
    AttributeDefinitions: [{ AttributeName: 'name', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'name', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  ok(r.status === 200 && r.json && r.json.TableDescription, 'CreateTable with a valid signature', r.text || r.error);
  const status = await waitFor(async () => {
    const d = await ddb('DescribeTable', { TableName: TABLE });
    return d.json && d.json.Table && d.json.Table.TableStatus === 'ACTIVE' && d.json.Table.TableStatus;
  }, 5000, 'table ACTIVE').catch((err) => err.message);
  ok(status === 'ACTIVE', 'table becomes ACTIVE', status);

  r = await ddb('PutItem', { TableName: TABLE, Item: { name: { S: 'seq1' }, value: { N: '0' } } });
  ok(r.status === 200 && r.text === '{}', 'PutItem', r.text);

  r = await reserve(0, 10);
  ok(r.status === 200 && r.json.Attributes && r.json.Attributes.value.N === '10',
    'UpdateItem with ConditionExpression, UPDATED_NEW returns the new value', r.text);
  ok(r.reused === true, 'keep-alive: the connection is reused');
  ok(r.headers['content-type'] === 'application/x-amz-json-1.0' && /^\d+$/.test(r.headers['x-amz-crc32'] || '') &&
     Number(r.headers['x-amz-crc32']) === crc32(Buffer.from(r.text)), 'relayed answer keeps dynalite headers (type, crc32)', r.headers);

  r = await reserve(0, 10);
  ok(isAwsError(r, 400, 'ConditionalCheckFailedException'), 'failed condition -> ConditionalCheckFailedException', r.text);
  note(`ConditionalCheckFailedException body: ${r.text}`);

  r = await getValue();
  ok(r.status === 200 && r.json.Item && r.json.Item.value.N === '10', 'GetItem reads the value', r.text);

  r = await ddb('GetItem', { TableName: TABLE, Key: { name: { S: 'seq1' } } }, { applyChecksum: false });
  ok(r.status === 200, 'signature without x-amz-content-sha256 accepted', r.text);

  r = await ddb('GetItem', { TableName: TABLE, Key: { name: { S: 'seq1' } } }, { key: SESSION_KEY });
  ok(r.status === 200, 'session credentials with their signed token accepted', r.text);

  /* --- Signature failures ----------------------------------------------- */

  await resetControl();
  const goodBody = JSON.stringify({ TableName: TABLE, Key: { name: { S: 'seq1' } } });
  const badBody = JSON.stringify({ TableName: TABLE, Key: { name: { S: 'seq2' } } });
  let h = await signedHeaders('GetItem', goodBody);
  r = await send({ headers: h, body: badBody });
  ok(isAwsError(r, 400, 'InvalidSignatureException') &&
     r.json.message === 'The request signature we calculated does not match the signature you provided. ' +
       'Check your AWS Secret Access Key and signing method.',
  'tampered body -> InvalidSignatureException', r.text);
  ok(r.headers['content-type'] === 'application/x-amz-json-1.0' && r.headers['x-amzn-errortype'] === 'InvalidSignatureException',
    'error answer has Content-Type and x-amzn-ErrorType', r.headers);

  h = await signedHeaders('GetItem', goodBody, { applyChecksum: false });
  r = await send({ headers: h, body: badBody });
  ok(isAwsError(r, 400, 'InvalidSignatureException'), 'tampered body (no payload hash header) -> InvalidSignatureException', r.text);

  // Claim the hash of the good body in x-amz-content-sha256 but send another body.
  h = await signedHeaders('GetItem', goodBody, {
    extraHeaders: { 'x-amz-content-sha256': crypto.createHash('sha256').update(goodBody).digest('hex') },
  });
  r = await send({ headers: h, body: badBody });
  ok(isAwsError(r, 400, 'InvalidSignatureException'), 'lying x-amz-content-sha256 -> InvalidSignatureException', r.text);

  h = await signedHeaders('GetItem', goodBody);
  r = await send({ headers: Object.assign({}, h, { 'x-amz-target': 'DynamoDB_20120810.PutItem' }), body: goodBody });
  ok(isAwsError(r, 400, 'InvalidSignatureException'), 'tampered signed header -> InvalidSignatureException', r.text);

  r = await ddb('GetItem', JSON.parse(goodBody), { key: { akid: KEY.akid, secret: 'wrong-secret' } });
  ok(isAwsError(r, 400, 'InvalidSignatureException'), 'wrong secret -> InvalidSignatureException', r.text);

  r = await ddb('GetItem', JSON.parse(goodBody), { key: { akid: 'AKIDUNKNOWN', secret: KEY.secret } });
  ok(r.status === 400 && r.json && r.json.__type === 'com.amazonaws.dynamodb.v20120810#UnrecognizedClientException' &&
     r.json.message === 'The security token included in the request is invalid.' &&
     r.headers['x-amzn-errortype'] === 'UnrecognizedClientException' &&
     r.headers['content-type'] === 'application/x-amz-json-1.0',
  'unknown key -> UnrecognizedClientException', { body: r.text, headers: r.headers });

  r = await send({ headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' }, body: goodBody });
  ok(isAwsError(r, 400, 'MissingAuthenticationTokenException'), 'no Authorization -> MissingAuthenticationTokenException', r.text);

  r = await ddb('GetItem', JSON.parse(goodBody), { region: 'eu-west-1' });
  ok(isAwsError(r, 400, 'InvalidSignatureException') && /region/.test(r.json.message),
    'credential scope in another region -> InvalidSignatureException', r.text);

  r = await ddb('GetItem', JSON.parse(goodBody), { signingDate: new Date(Date.now() - 3600 * 1000) });
  ok(isAwsError(r, 400, 'InvalidSignatureException') && /expired/.test(r.json.message),
    'X-Amz-Date an hour old -> InvalidSignatureException (expired)', r.text);

  r = await ddb('GetItem', JSON.parse(goodBody), { key: { akid: SESSION_KEY.akid, secret: SESSION_KEY.secret } });
  ok(isAwsError(r, 400, 'UnrecognizedClientException'), 'session key without its token -> UnrecognizedClientException', r.text);

  r = await ddb('GetItem', JSON.parse(goodBody), { key: Object.assign({}, SESSION_KEY, { token: 'another-token' }) });
  ok(isAwsError(r, 400, 'UnrecognizedClientException'), 'session key with a wrong token -> UnrecognizedClientException', r.text);

  h = await signedHeaders('GetItem', goodBody, { key: { akid: SESSION_KEY.akid, secret: SESSION_KEY.secret } });
  r = await send({ headers: Object.assign({}, h, { 'x-amz-security-token': SESSION_KEY.token }), body: goodBody });
  ok(isAwsError(r, 400, 'UnrecognizedClientException'), 'session token present but not signed -> UnrecognizedClientException', r.text);

  r = await ddb('GetItem', JSON.parse(goodBody), { key: Object.assign({}, KEY, { token: 'unexpected' }) });
  ok(isAwsError(r, 400, 'UnrecognizedClientException'), 'token sent for a key without one -> UnrecognizedClientException', r.text);

  let s = await getStats();
  ok(s.signature_failures === 13 && s.forwarded === 0 && s.total === 13 && s.by_operation.GetItem.signature_failures === 12 &&
     s.by_operation.PutItem.signature_failures === 1 && s.by_auth_error.InvalidSignatureException === 7 &&
     s.by_auth_error.UnrecognizedClientException === 5 && s.by_auth_error.MissingAuthenticationTokenException === 1,
  'stats count 13 signature failures by operation and type, nothing forwarded', s);
  ok(s.max_signature_age_ms >= 3600 * 1000 && s.max_signature_age_ms < 3602 * 1000 &&
     s.by_operation.GetItem.first_date === null && s.by_operation.GetItem.last_date === null,
  `stats: the oldest signature seen counts refused requests (${s.max_signature_age_ms} ms), ` +
    'the dates of signed requests only those that passed', s);

  // The age of the oldest signature, and the earliest and latest dates of an operation's.
  await resetControl();
  const amzDate = (t) => new Date(t).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const oldSigning = new Date(Date.now() - 30 * 1000);
  const r4 = await ddb('GetItem', JSON.parse(goodBody), { signingDate: oldSigning });
  const newSigning = new Date();
  const r5 = await ddb('GetItem', JSON.parse(goodBody), { signingDate: newSigning });
  s = await getStats();
  ok(r4.status === 200 && r5.status === 200 && s.max_signature_age_ms >= 30 * 1000 && s.max_signature_age_ms < 32 * 1000 &&
     s.by_operation.GetItem.first_date === amzDate(oldSigning) && s.by_operation.GetItem.last_date === amzDate(newSigning),
  `stats: a signature 30 s old is accepted and is the oldest seen (${s.max_signature_age_ms} ms); ` +
    'the earliest and latest X-Amz-Date of the operation', [r4.text, r5.text, s]);

  // --max-skew-s narrows the accepted clock skew
  {
    const skewLog = path.join(tmpDir, 'skew.log');
    const k = await startAnnounced(['--port', '0', '--max-skew-s', '3', '--log-file', skewLog,
      '--credentials', `${KEY.akid}:${KEY.secret}`]);
    const savedPort = port;
    const agent = new http.Agent({ keepAlive: false });
    port = Number(k.stdout.trim().split(' ')[0]);
    try {
      const tooOld = await ddb('ListTables', {}, { signingDate: new Date(Date.now() - 6 * 1000), agent });
      const fresh = await ddb('ListTables', {}, { agent });
      ok(isAwsError(tooOld, 400, 'InvalidSignatureException') && /^Signature expired: .* - 0\.05 min\.\)$/.test(tooOld.json.message) &&
         fresh.status === 200,
      '--max-skew-s 3: a signature 6 s old is expired, a fresh one accepted', [tooOld.text, fresh.text]);
    }
    finally {
      port = savedPort;
      process.kill(k.proc.pid, 'SIGTERM');
      await k.exit;
    }
  }

  /* --- Faults ------------------------------------------------------------ */

  await resetControl();
  await setFaults([{ target: 'GetItem', mode: 'delay', ms: 200 }]);
  r = await getValue();
  const delayed = r.elapsed;
  const r2 = await ddb('DescribeTable', { TableName: TABLE });
  ok(r.status === 200 && delayed >= 190 && delayed < 1500, `delay: GetItem took ${delayed} ms (200 ms injected)`, r.text);
  // which requests the rule applied to, as the proxy counts them: not a clock
  const ds = await getStats();
  ok(r2.status === 200 && ds.by_operation.GetItem.faulted === 1 && ds.by_operation.DescribeTable.faulted === 0 &&
     ds.by_fault.delay === 1, `delay: other operations not delayed (DescribeTable took ${r2.elapsed} ms)`, ds);

  // A request whose client gave up during the delay is still applied, as by a real server.
  await setFaults([{ target: 'UpdateItem', mode: 'delay', ms: 300, count: 1 }]);
  r = await ddb('UpdateItem', {
    TableName: TABLE, Key: { name: { S: 'seq1' } }, UpdateExpression: 'ADD #v :n',
    ExpressionAttributeNames: { '#v': 'value' }, ExpressionAttributeValues: { ':n': { N: '5' } },
  }, { timeoutMs: 100 });
  ok(transportFailed(r) && r.error.code === 'CLIENT_TIMEOUT', 'delay: client gives up before the answer');
  await sleep(400);
  ok(await readValue() === '15', 'delay: the abandoned update is still applied after the delay');
  r = await reserve(15, -5);
  ok(r.status === 200 && r.json.Attributes.value.N === '10', 'put the value back to 10', r.text);

  // ms on another mode delays the fault itself
  await setFaults([{ target: 'GetItem', mode: 'http500', count: 1, ms: 150 }]);
  r = await getValue();
  ok(isAwsError(r, 500, 'InternalServerError') && r.elapsed >= 140, `ms delays the fault too (${r.elapsed} ms)`, r.text);

  await setFaults([{ target: 'GetItem', mode: 'http500', count: 2 }]);
  const a1 = await getValue();
  const a2 = await getValue();
  const a3 = await getValue();
  ok(isAwsError(a1, 500, 'InternalServerError') && a1.json.__type === 'com.amazonaws.dynamodb.v20120810#InternalServerError' &&
     isAwsError(a2, 500, 'InternalServerError') && a3.status === 200,
  'http500 count 2: two 500 InternalServerError, then forwarded', [a1.text, a2.text, a3.text]);
  let f = await control('faults');
  ok(f.rules[0].remaining === 0 && f.rules[0].applied === 2, 'rule shows remaining 0, applied 2', f);

  for (const [mode, type] of [['throttle', 'ProvisionedThroughputExceededException'],
    ['throttling', 'ThrottlingException'], ['requestlimit', 'RequestLimitExceeded']]) {
    await setFaults([{ target: 'UpdateItem', mode, count: 1 }]);
    r = await addOne();
    const after = await readValue();
    ok(isAwsError(r, 400, type) && after === '10', `${mode}: 400 ${type}, not applied`, [r.text, after]);
  }

  // First matching rule with count left applies, in order.
  await setFaults([
    { target: 'GetItem', mode: 'throttle', count: 1 },
    { target: 'PutItem', mode: 'http500' },
    { target: '*', mode: 'http500', count: 1 },
  ]);
  const o1 = await getValue();
  const o2 = await getValue();
  const o3 = await getValue();
  ok(isAwsError(o1, 400, 'ProvisionedThroughputExceededException') && isAwsError(o2, 500, 'InternalServerError') && o3.status === 200,
    'rules apply first-match, each for its count', [o1.text, o2.text, o3.text]);

  await setFaults([{ target: 'UpdateItem', mode: 'malformed' }]);
  r = await addOne();
  let parsedOk = true;
  try { JSON.parse(r.text); } catch { parsedOk = false; }
  ok(r.status === 200 && !parsedOk && Number(r.headers['x-amz-crc32']) === crc32(Buffer.from(r.text)),
    'malformed: 200 with a body that is not JSON', r.text);

  await setFaults([{ target: '*', mode: 'wrongshape' }]);
  r = await addOne();
  const rg = await getValue();
  ok(r.status === 200 && r.json && r.json.Attributes && r.json.Attributes.value.S === 'x' && rg.status === 200 && rg.text === '{}',
    'wrongshape: 200 with valid JSON of the wrong shape', [r.text, rg.text]);
  await setFaults([]);
  ok(await readValue() === '10', 'malformed/wrongshape did not apply the update');

  await setFaults([{ target: 'UpdateItem', mode: 'reset', count: 1 }]);
  r = await addOne();
  ok(transportFailed(r) && r.error.code === 'ECONNRESET', `reset: connection reset (${r.error && r.error.code})`);
  ok(await readValue() === '10', 'reset: update not applied');

  // hang, released by the client giving up
  await resetControl();
  await setFaults([{ target: 'GetItem', mode: 'hang' }]);
  r = await ddb('GetItem', JSON.parse(goodBody), { timeoutMs: 300 });
  ok(transportFailed(r) && r.error.code === 'CLIENT_TIMEOUT' && r.elapsed >= 290, `hang: no answer until the client gives up (${r.elapsed} ms)`);
  await waitFor(async () => (await getStats()).hanging === 0, 2000, 'hung socket to close').catch(() => null);
  s = await getStats();
  ok(s.hanging === 0, 'hang: socket released when the client gives up', s.hanging);

  // hang, released by clearing the rules
  const pending = ddb('GetItem', JSON.parse(goodBody), { timeoutMs: 10000 });
  await waitFor(async () => (await getStats()).hanging === 1, 2000, 'request to hang').catch(() => null);
  ok((await getStats()).hanging === 1, 'hang: request held');
  await setFaults([]);
  r = await pending;
  ok(transportFailed(r) && r.elapsed < 3000, `hang: socket closed when the rules change (${r.error && r.error.code}, ${r.elapsed} ms)`);

  // hang, released by reset
  await setFaults([{ target: '*', mode: 'hang' }]);
  const pending2 = ddb('GetItem', JSON.parse(goodBody), { timeoutMs: 10000 });
  await waitFor(async () => (await getStats()).hanging === 1, 2000, 'request to hang').catch(() => null);
  await resetControl();
  r = await pending2;
  ok(transportFailed(r) && r.elapsed < 3000, `hang: socket closed on reset (${r.error && r.error.code})`);

  // down: refuses requests and drops idle keep-alive connections
  await resetControl();
  r = await getValue();                                  // leaves an idle keep-alive connection
  const before = (await getStats()).connections;
  await setFaults([{ target: '*', mode: 'down' }]);
  await sleep(50);
  const duringIdle = (await getStats()).connections;
  ok(before >= 2 && duringIdle === 1, `down: idle keep-alive connections closed (${before} -> ${duringIdle}, counting the control one)`);
  r = await addOne();
  const r3 = await getValue();
  ok(transportFailed(r) && transportFailed(r3), `down: requests refused (${r.error && r.error.code}, ${r3.error && r3.error.code})`);
  await setFaults([]);
  ok(await readValue() === '10', 'down: update not applied, service back after clearing');

  // after_forward_reset: the update is applied, the answer is lost
  await resetControl();
  await setFaults([{ target: 'UpdateItem', mode: 'after_forward_reset', count: 1 }]);
  r = await addOne();
  ok(transportFailed(r), `after_forward_reset: client gets no answer (${r.error && r.error.code})`);
  ok(await readValue() === '11', 'after_forward_reset: the update was applied');
  r = await addOne();
  ok(r.status === 200 && r.json.Attributes.value.N === '12', 'count 1: next UpdateItem answered normally', r.text);

  s = await getStats();
  ok(s.total === 3 && s.forwarded === 3 && s.faulted === 1 && s.by_fault.after_forward_reset === 1 &&
     s.by_operation.UpdateItem.total === 2 && s.by_operation.UpdateItem.forwarded === 2 &&
     s.by_operation.UpdateItem.faulted === 1 && s.by_operation.GetItem.forwarded === 1,
  'stats: totals, forwarded, faulted per operation', s);

  /* --- Control API and script ------------------------------------------ */

  r = await send({ method: 'POST', urlPath: '/__control/faults', body: '{"rules":[{"mode":"explode"}]}', agent: false });
  ok(r.status === 400 && /mode/.test(r.json.error), 'control: invalid rule refused', r.text);

  let c = await runControlScript(port, 'faults', '{"rules":[{"target":"GetItem","mode":"delay","ms":1}]}');
  ok(c.code === 0 && JSON.parse(c.stdout).rules[0].mode === 'delay', 'dynamo_control.sh faults', c);
  c = await runControlScript(port, 'stats');
  ok(c.code === 0 && JSON.parse(c.stdout).total === 3, 'dynamo_control.sh stats', c);
  c = await runControlScript(port, 'reset');
  const after = await getStats();
  ok(c.code === 0 && after.total === 0 && after.rules.length === 0, 'dynamo_control.sh reset zeroes stats and clears rules', c);

  /* --- Robustness ------------------------------------------------------- */

  const garbageAnswer = await new Promise((resolve) => {
    let got = '';
    const sock = net.connect(port, '127.0.0.1', () => sock.end('GARBAGE\r\n\r\n\x00\x01'));
    sock.setTimeout(2000, () => sock.destroy());
    sock.on('data', (d) => { got += d; });
    sock.on('error', () => {});
    sock.on('close', () => resolve(got));
  });
  ok(/^HTTP\/1\.1 400/.test(garbageAnswer), 'garbage on the wire -> 400 Bad Request', garbageAnswer);
  r = await getValue();
  ok(r.status === 200, 'garbage on the wire does not stop the server');

  /* --- --path: the data outlives the process --------------------------- */

  {
    const dataDir = path.join(tmpDir, 'data');
    const pathLog = path.join(tmpDir, 'path.log');
    const startOn = (onPort) => startAnnounced(['--port', String(onPort), '--path', dataDir,
      '--log-file', pathLog, '--credentials', `${KEY.akid}:${KEY.secret}`, '--create-table-ms', '0']);
    const savedPort = port;
    const agent = new http.Agent({ keepAlive: false });
    let p = await startOn(0);
    port = Number(p.stdout.trim().split(' ')[0]);
    const pPort = port;
    try {
      r = await ddb('CreateTable', {
        TableName: 'persisted',
        AttributeDefinitions: [{ AttributeName: 'name', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'name', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }, { agent });
      await waitFor(async () => {
        const d = await ddb('DescribeTable', { TableName: 'persisted' }, { agent });
        return d.json && d.json.Table && d.json.Table.TableStatus === 'ACTIVE';
      }, 5000, 'table ACTIVE');
      r = await ddb('PutItem', { TableName: 'persisted', Item: { name: { S: 'k' }, value: { N: '41' } } }, { agent });
      r = await ddb('UpdateItem', {
        TableName: 'persisted', Key: { name: { S: 'k' } }, UpdateExpression: 'ADD #v :one',
        ExpressionAttributeNames: { '#v': 'value' }, ExpressionAttributeValues: { ':one': { N: '1' } },
        ReturnValues: 'UPDATED_NEW',
      }, { agent });
      ok(r.status === 200 && r.json.Attributes.value.N === '42', '--path: writes answered', r.text);
      process.kill(p.proc.pid, 'SIGKILL');
      await p.exit;
      p = await startOn(pPort);
      ok(Number(p.stdout.trim().split(' ')[0]) === pPort, '--path: started again on the same port after SIGKILL', p.stdout);
      r = await ddb('GetItem', { TableName: 'persisted', Key: { name: { S: 'k' } }, ConsistentRead: true }, { agent });
      ok(r.status === 200 && r.json && r.json.Item && r.json.Item.value.N === '42',
        '--path: the table and the last answered write survive a SIGKILL', r.text);
      process.kill(p.proc.pid, 'SIGTERM');
      await p.exit;
      p = await startOn(pPort);
      r = await ddb('GetItem', { TableName: 'persisted', Key: { name: { S: 'k' } }, ConsistentRead: true }, { agent });
      ok(r.status === 200 && r.json && r.json.Item && r.json.Item.value.N === '42',
        '--path: and a SIGTERM', r.text);
      ok(/data in .*data\)/.test(fs.readFileSync(pathLog, 'utf8')), '--path: the log says where the data is');
      process.kill(p.proc.pid, 'SIGTERM');
      await p.exit;
    }
    finally {
      port = savedPort;
    }
  }

  /* --- Shutdown --------------------------------------------------------- */

  await setFaults([{ target: '*', mode: 'hang' }]);
  const hanging = ddb('GetItem', JSON.parse(goodBody), { timeoutMs: 10000 });
  const held = await waitFor(async () => (await getStats()).hanging === 1, 5000, 'request to hang')
    .then(() => true, () => false);
  ok(held, 'SIGTERM: a request is held open when the signal comes');
  keepAliveAgent.destroy();
  const t0 = Date.now();
  process.kill(child.pid, 'SIGTERM');
  // The hung request would wait 10 s for its answer; the server closes it and
  // exits instead.  Whether it did is read from what happened, not a clock.
  const exit = await Promise.race([childExit, sleep(8000).then(() => null)]);
  const took = Date.now() - t0;
  r = await hanging;
  ok(exit && exit.code === 0, `SIGTERM: exit 0 with a hung request open (${took} ms)`, exit);
  ok(!fs.existsSync(pidFile) && !fs.existsSync(portFile), 'SIGTERM: pid and port files removed');
  ok(transportFailed(r) && r.error.code !== 'CLIENT_TIMEOUT',
    `SIGTERM: the server closed the hung request (${r.error && r.error.code}), its client did not give up`, r);
}

/* Never hang: give up (and stop the child) after a minute. */
setTimeout(() => {
  ok(false, 'self-test watchdog: still running after 60 s');
  note(`child log:\n${childLog}`);
  killChild();
  process.stdout.write(`1..${testNo}\n`);
  process.exit(1);
}, 60000).unref();

main()
  .catch((err) => {
    ok(false, `unexpected error: ${err.message}`, err.stack);
  })
  .finally(() => {
    if (failures) note(`child log:\n${childLog}`);
    killChild();
    process.stdout.write(`1..${testNo}\n`);
    process.exit(failures ? 1 : 0);
  });
