#!/usr/bin/env node
/*
 * crosscheck.js
 *		Compare the C SigV4 signer (src/sigv4.c, through sigv4_check) with
 *		@smithy/signature-v4 on randomly generated requests of the kind
 *		seqdist sends: POST, a JSON body, no query string.
 *
 * Usage: node test/sigv4/crosscheck.js [--seed N] [--count N] [--driver PATH]
 *
 * Requests come from a seeded generator, so a run is reproducible: the same
 * seed and count give the same requests.  Each request is signed by smithy
 * and by the C signer (one sigv4_check process fed all requests on stdin).
 * Output is TAP: for each batch of 100 requests, one test each for the
 * canonical request, the string to sign and the Authorization value, then
 * a summary line; on the first mismatch the request and both sides are
 * printed.
 *
 * The C signer adds no header of its own, smithy adds X-Amz-Date and, with
 * a session token, X-Amz-Security-Token; the C side is given those too, as
 * dynamo_send_once does.  smithy is told not to add X-Amz-Content-Sha256,
 * which seqdist does not send.
 *
 * The generator stays inside the inputs both signers take to mean the same
 * (README.md lists them): paths are already normal (no empty, "." or ".."
 * segment; the C signer refuses those rather than normalise them), header
 * names are distinct and never ones smithy refuses to sign, and header
 * values hold ASCII white space only.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
'use strict';

const crypto = require('crypto');
const path = require('path');
const { spawn } = require('child_process');
const { SignatureV4 } = require('@smithy/signature-v4');
const { HttpRequest } = require('@smithy/protocol-http');
const { Sha256 } = require('@aws-crypto/sha256-js');

const BATCH = 100;

/* ---- command line ---- */

function parseArgs(argv) {
	const opts = {
		seed: 20261123,
		count: 1000,
		driver: path.join(__dirname, 'sigv4_check'),
	};
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const next = () => {
			if (i + 1 >= argv.length)
				throw new Error(`${arg} needs a value`);
			return argv[++i];
		};
		if (arg === '--seed')
			opts.seed = Number(next());
		else if (arg === '--count')
			opts.count = Number(next());
		else if (arg === '--driver')
			opts.driver = next();
		else
			throw new Error(`unknown argument ${arg}`);
	}
	if (!Number.isInteger(opts.seed) || opts.seed < 0)
		throw new Error('--seed must be a non-negative integer');
	if (!Number.isInteger(opts.count) || opts.count < 1)
		throw new Error('--count must be a positive integer');
	return opts;
}

/* ---- seeded random numbers (mulberry32) ---- */

function makeRandom(seed) {
	let state = seed >>> 0;
	const next = () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const r = {
		next,
		int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
		chance: (p) => next() < p,
		pick: (list) => list[Math.floor(next() * list.length)],
	};
	r.string = (minLen, maxLen, charFn) => {
		const len = r.int(minLen, maxLen);
		let s = '';
		for (let i = 0; i < len; i++)
			s += charFn();
		return s;
	};
	return r;
}

/* ---- character sources ---- */

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const UNRESERVED = UPPER + LOWER + DIGITS + '-._~';
const RESERVED = "!#$&'()*+,/:;=?@[]";
const OTHER_ASCII = ' "%<>\\^`{|}';
const TCHAR_EXTRA = "!#$%&'*+-.^_`|~";
const BASE64 = UPPER + LOWER + DIGITS + '+/';
const ASCII_SPACE = ' \t\n\r\v\f';

/* A Unicode scalar value, never a surrogate half, never U+0000. */
function unicodeChar(r) {
	for (;;) {
		let cp;
		const band = r.int(0, 3);
		if (band === 0)
			cp = r.int(0x80, 0x7ff);
		else if (band === 1)
			cp = r.int(0x800, 0xffff);
		else if (band === 2)
			cp = r.int(0x10000, 0x10ffff);
		else
			cp = r.pick([0xe9, 0xdf, 0x1234, 0x4e2d, 0x1f600, 0xfeff, 0xa0]);
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		return String.fromCodePoint(cp);
	}
}

/* Characters for paths and query strings: anything but NUL. */
function uriChar(r) {
	const roll = r.next();
	if (roll < 0.55)
		return r.pick(UNRESERVED);
	if (roll < 0.75)
		return r.pick(RESERVED);
	if (roll < 0.87)
		return r.pick(OTHER_ASCII);
	if (roll < 0.90)
		return String.fromCharCode(r.int(1, 31));
	return unicodeChar(r);
}

/* Characters for header values: printable ASCII, ASCII space, some Unicode. */
function headerValueChar(r) {
	const roll = r.next();
	if (roll < 0.75)
		return String.fromCharCode(r.int(0x21, 0x7e));
	if (roll < 0.93)
		return r.chance(0.7) ? ' ' : r.pick(ASCII_SPACE);
	for (;;) {
		const c = unicodeChar(r);
		if (!/\s/u.test(c))
			return c;
	}
}

function trimAsciiSpace(s) {
	return s.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '');
}

/* ---- request pieces ---- */

/* A path segment: anything but "/", "?", "#" and NUL; never "." or "..". */
function genSegment(r) {
	for (;;) {
		const seg = r.string(1, 12, () => {
			const c = uriChar(r);
			return c === '/' || c === '?' || c === '#' ? '_' : c;
		});
		if (seg !== '.' && seg !== '..')
			return seg;
	}
}

/* "/" most often, as with a bare endpoint URL, else a path prefix. */
function genPath(r) {
	const roll = r.next();
	if (roll < 0.3)
		return '/';
	if (roll < 0.4)
		return r.pick(['/dynamo', '/dynamo/', '/v1/dynamodb', '/proxy/ddb/']);
	const segs = [];
	const nseg = r.int(1, 6);
	for (let i = 0; i < nseg; i++)
		segs.push(genSegment(r));
	return '/' + segs.join('/') + (r.chance(0.3) ? '/' : '');
}

/* Headers smithy drops or adds itself. */
const RESERVED_HEADERS = new Set([
	'authorization', 'cache-control', 'connection', 'expect', 'from',
	'keep-alive', 'max-forwards', 'pragma', 'referer', 'te', 'trailer',
	'transfer-encoding', 'upgrade', 'user-agent', 'x-amzn-trace-id', 'date',
	'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'host',
]);
const EXTRA_HEADERS = ['Content-Length', 'Accept', 'Accept-Encoding',
	'X-Amz-Api-Version', 'X-Amz-Meta-Owner', 'My-Header1'];
const OPERATIONS = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem',
	'DescribeTable', 'CreateTable', 'TransactWriteItems'];

function headerNameAllowed(lname) {
	return !RESERVED_HEADERS.has(lname) && !/^proxy-/.test(lname) &&
		!/^sec-/.test(lname);
}

function randomCase(r, s) {
	switch (r.int(0, 3)) {
		case 0:
			return s.toLowerCase();
		case 1:
			return s.toUpperCase();
		case 2:
			return s;
		default:
			return s.split('').map((c) => (r.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
	}
}

function genHeaderName(r) {
	if (r.chance(0.4))
		return r.pick(EXTRA_HEADERS);
	return r.string(1, 20, () => (r.chance(0.85)
		? r.pick(UPPER + LOWER + DIGITS + '-')
		: r.pick(TCHAR_EXTRA)));
}

/* Values with leading, trailing and inner runs of white space. */
function genHeaderValue(r) {
	let v = r.string(0, 60, () => headerValueChar(r));
	if (r.chance(0.3))
		v = r.string(1, 3, () => r.pick(ASCII_SPACE)) + v;
	if (r.chance(0.3))
		v = v + r.string(1, 3, () => r.pick(ASCII_SPACE));
	return v;
}

function genHost(r) {
	if (r.chance(0.3))
		return `dynamodb.${r.pick(REGIONS)}.amazonaws.com`;
	const labels = [];
	const n = r.int(1, 4);
	for (let i = 0; i < n; i++)
		labels.push(r.string(1, 12, () => r.pick(LOWER + DIGITS + '-')));
	let host = labels.join('.');
	if (r.chance(0.3))
		host += ':' + r.int(1, 65535);
	return host;
}

/*
 * dynamo_send_once's headers (Host, Content-Type, X-Amz-Target), each
 * name in random case, Content-Type and X-Amz-Target sometimes left out or
 * given a random value, and up to four more with random names and values.
 */
function genHeaders(r) {
	const headers = [[randomCase(r, 'Host'), genHost(r)]];
	const used = new Set(['host']);
	const add = (name, value) => {
		const lname = name.toLowerCase();
		if (headerNameAllowed(lname) && !used.has(lname)) {
			used.add(lname);
			headers.push([name, value]);
		}
	};
	if (r.chance(0.9))
		add(randomCase(r, 'Content-Type'),
			r.chance(0.8) ? 'application/x-amz-json-1.0' : genHeaderValue(r));
	if (r.chance(0.9))
		add(randomCase(r, 'X-Amz-Target'),
			r.chance(0.8) ? 'DynamoDB_20120810.' + r.pick(OPERATIONS) : genHeaderValue(r));
	const n = r.chance(0.5) ? 0 : r.int(1, 4);
	for (let i = 0; i < n; i++)
		add(genHeaderName(r), genHeaderValue(r));
	return headers;
}

/* JSON strings: mostly ASCII, some of every Unicode plane. */
function jsonString(r, maxLen) {
	return r.string(0, maxLen, () => (r.chance(0.85)
		? String.fromCharCode(r.int(0x20, 0x7e))
		: unicodeChar(r)));
}

function jsonValue(r, depth) {
	const roll = r.next();
	if (depth >= 3 || roll < 0.4) {
		switch (r.int(0, 4)) {
			case 0: return jsonString(r, 30);
			case 1: return r.int(-1e9, 1e9);
			case 2: return r.next() * 1e6;
			case 3: return r.chance(0.5);
			default: return null;
		}
	}
	const n = r.int(0, 5);
	if (roll < 0.7) {
		const obj = {};
		for (let i = 0; i < n; i++)
			obj[jsonString(r, 12)] = jsonValue(r, depth + 1);
		return obj;
	}
	return Array.from({ length: n }, () => jsonValue(r, depth + 1));
}

/* Half shaped like seqdist's DynamoDB calls, half arbitrary JSON. */
function genBody(r) {
	let doc;
	if (r.chance(0.5)) {
		doc = {
			TableName: r.string(3, 40, () => r.pick(UPPER + LOWER + DIGITS + '_.-')),
			Key: { name: { S: jsonString(r, 60) } },
		};
		if (r.chance(0.5)) {
			doc.UpdateExpression = 'ADD #v :n';
			doc.ExpressionAttributeNames = { '#v': 'value' };
			doc.ExpressionAttributeValues = { ':n': { N: String(r.int(1, 1e9)) } };
			doc.ReturnValues = 'UPDATED_NEW';
		}
	}
	else
		doc = jsonValue(r, 0);
	return JSON.stringify(doc, null, r.pick([undefined, 2, '\t']));
}

function genCredentials(r) {
	const creds = {
		accessKeyId: r.pick(['AKIA', 'ASIA', 'AKID']) + r.string(16, 16, () => r.pick(UPPER + DIGITS)),
		secretAccessKey: r.string(40, 40, () => r.pick(BASE64)),
	};
	if (r.chance(0.5))
		creds.sessionToken = r.string(16, 1000, () => r.pick(BASE64 + '='));
	return creds;
}

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1',
	'ap-southeast-2', 'sa-east-1', 'cn-north-1', 'us-gov-west-1', 'local'];

function genDate(r) {
	const from = Date.UTC(2000, 0, 1);
	const to = Date.UTC(2099, 11, 31, 23, 59, 59);
	return new Date(Math.floor(r.int(from / 1000, to / 1000)) * 1000);
}

function amzDate(date) {
	return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

function randomName(r) {
	return r.string(1, 16, () => r.pick(LOWER + DIGITS + '-'));
}

function shuffle(r, list) {
	const out = list.slice();
	for (let i = out.length - 1; i > 0; i--) {
		const j = r.int(0, i);
		[out[i], out[j]] = [out[j], out[i]];
	}
	return out;
}

function genRequest(r) {
	const requestPath = genPath(r);
	const headers = genHeaders(r);
	const body = genBody(r);
	const credentials = genCredentials(r);
	const region = r.chance(0.8) ? r.pick(REGIONS) : randomName(r);
	const service = r.chance(0.8) ? 'dynamodb' : randomName(r);
	const date = genDate(r);
	const date8601 = amzDate(date);

	/* The headers smithy adds, handed to the C signer as well. */
	const cHeaders = headers.slice();
	cHeaders.push([randomCase(r, 'X-Amz-Date'), date8601]);
	if (credentials.sessionToken)
		cHeaders.push([randomCase(r, 'X-Amz-Security-Token'), credentials.sessionToken]);

	return {
		smithy: {
			request: new HttpRequest({
				method: 'POST',
				protocol: 'https:',
				hostname: 'example.amazonaws.com',
				path: requestPath,
				headers: Object.fromEntries(headers),
				body,
			}),
			credentials,
			region,
			service,
			date,
		},
		c: {
			method: 'POST',
			path: requestPath,
			headers: r.chance(0.5) ? shuffle(r, cHeaders) : cHeaders,
			payload: Buffer.from(body, 'utf8').toString('hex'),
			access_key_id: credentials.accessKeyId,
			secret_access_key: credentials.secretAccessKey,
			session_token: credentials.sessionToken || null,
			region,
			service,
			amz_date: date8601,
		},
	};
}

/* ---- the two signers ---- */

class CapturingSigner extends SignatureV4 {
	createCanonicalRequest(request, canonicalHeaders, payloadHash) {
		const canonical = super.createCanonicalRequest(request, canonicalHeaders, payloadHash);
		this.lastCanonicalRequest = canonical;
		return canonical;
	}

	async createStringToSign(longDate, credentialScope, canonicalRequest, algorithmIdentifier) {
		const sts = await super.createStringToSign(longDate, credentialScope, canonicalRequest, algorithmIdentifier);
		this.lastStringToSign = sts;
		return sts;
	}
}

async function signWithSmithy(s) {
	const signer = new CapturingSigner({
		credentials: s.credentials,
		region: s.region,
		service: s.service,
		sha256: Sha256,
		applyChecksum: false,
		uriEscapePath: true,
	});
	const signed = await signer.sign(s.request, { signingDate: s.date });
	return {
		authorization: signed.headers.authorization,
		canonical_request: signer.lastCanonicalRequest,
		string_to_sign: signer.lastStringToSign,
		headers: Object.keys(signed.headers).map((h) => h.toLowerCase()),
	};
}

function signWithC(driver, requests) {
	return new Promise((resolve, reject) => {
		const child = spawn(driver, ['stdin'], { stdio: ['pipe', 'pipe', 'inherit'] });
		const chunks = [];
		child.on('error', reject);
		child.stdout.on('data', (d) => chunks.push(d));
		child.on('close', (code) => {
			const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l.length > 0);
			resolve({ code, results: lines.map((l) => JSON.parse(l)) });
		});
		child.stdin.on('error', reject);
		child.stdin.end(requests.map((q) => JSON.stringify(q.c)).join('\n') + '\n');
	});
}

/* ---- TAP ---- */

function diag(label, text) {
	console.log(`#   ${label}:`);
	for (const line of String(text).split('\n'))
		console.log(`#     |${line}`);
}

async function main() {
	const opts = parseArgs(process.argv.slice(2));
	const r = makeRandom(opts.seed);
	const requests = [];
	for (let i = 0; i < opts.count; i++)
		requests.push(genRequest(r));

	const smithy = [];
	for (const q of requests)
		smithy.push(await signWithSmithy(q.smithy));
	const c = await signWithC(opts.driver, requests);

	/*
	 * The three results are compared apart, so that a failure names the
	 * step that differs; the Authorization check also requires that smithy
	 * sent no header the C side was not given.
	 */
	const checks = [
		['canonical request', (mine, theirs) => mine.canonical_request === theirs.canonical_request],
		['string to sign', (mine, theirs) => mine.string_to_sign === theirs.string_to_sign],
		['Authorization', (mine, theirs, i) => mine.authorization === theirs.authorization &&
			theirs.headers.filter((h) => h !== 'authorization')
				.every((h) => requests[i].c.headers.some((ch) => ch[0].toLowerCase() === h))],
	];
	const nbatches = Math.ceil(opts.count / BATCH);
	const agree = new Array(opts.count).fill(true);
	let failed = 0;
	let reported = false;
	let testno = 0;
	console.log(`1..${nbatches * checks.length}`);
	for (let b = 0; b < nbatches; b++) {
		const first = b * BATCH;
		const last = Math.min(opts.count, first + BATCH) - 1;
		for (const [what, same] of checks) {
			let ok = true;
			for (let i = first; i <= last; i++) {
				const mine = c.results[i] || { error: 'no output' };
				const theirs = smithy[i];
				if (same(mine, theirs, i))
					continue;
				ok = false;
				agree[i] = false;
				if (!reported) {
					reported = true;
					console.log(`# request ${i} (seed ${opts.seed}) differs`);
					diag('request given to the C signer', JSON.stringify(requests[i].c));
					diag('headers smithy sent', theirs.headers.join(', '));
					diag('smithy canonical request', theirs.canonical_request);
					diag('C canonical request', mine.canonical_request || mine.error);
					diag('smithy string to sign', theirs.string_to_sign);
					diag('C string to sign', mine.string_to_sign || mine.error);
					diag('smithy Authorization', theirs.authorization);
					diag('C Authorization', mine.authorization || mine.error);
				}
			}
			if (!ok)
				failed++;
			testno++;
			console.log(`${ok ? 'ok' : 'not ok'} ${testno} - requests ${first + 1}..${last + 1}: ${what} agrees with @smithy/signature-v4`);
		}
	}
	if (c.code !== 0)
		console.log(`# sigv4_check exited with status ${c.code}`);
	console.log(`# seed ${opts.seed}: ${agree.filter((a) => a).length} of ${opts.count} requests agree, ${failed} of ${testno} tests failed`);
	process.exitCode = failed === 0 && c.code === 0 ? 0 : 1;
}

main().catch((err) => {
	console.log(`Bail out! crosscheck could not run: ${err && err.message ? err.message : err}`);
	if (err && err.stack)
		console.log(`# ${err.stack.split('\n').join('\n# ')}`);
	process.exitCode = 1;
});
