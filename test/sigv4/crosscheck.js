#!/usr/bin/env node
/*
 * crosscheck.js
 *		Compare the C SigV4 signer (src/sigv4.c, through sigv4_check) with
 *		@smithy/signature-v4 on randomly generated requests.
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
 * The C signer adds no header of its own, smithy adds some; so the C side is
 * given exactly the headers smithy signs: X-Amz-Date always,
 * X-Amz-Security-Token when the credentials carry a session token, and
 * X-Amz-Content-Sha256 when smithy is told to apply the payload checksum.
 *
 * The generator stays inside the inputs where both signers promise the same
 * meaning (README.md lists them):
 *	- smithy takes headers as an object, so a repeated header reaches it as
 *	  one comma-joined value; the values of a repeated header are therefore
 *	  generated without surrounding white space;
 *	- header names are never ones smithy refuses to sign (User-Agent,
 *	  Authorization, Date, proxy-*, sec-*, ...);
 *	- header values hold ASCII white space only: smithy also folds Unicode
 *	  spaces, which never occur in HTTP header values;
 *	- smithy takes the query as an object of decoded strings; the C side
 *	  gets a raw query string spelling those same strings in one of several
 *	  encodings.
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

function genPath(r) {
	if (r.chance(0.1))
		return '/';
	const nseg = r.int(1, 7);
	const segs = [];
	for (let i = 0; i < nseg; i++) {
		const roll = r.next();
		if (roll < 0.08)
			segs.push('.');
		else if (roll < 0.16)
			segs.push('..');
		else if (roll < 0.22)
			segs.push('');
		else
			segs.push(r.string(1, 12, () => {
				const c = uriChar(r);
				return c === '/' ? '_' : c;
			}));
	}
	return '/' + segs.join('/') + (r.chance(0.3) ? '/' : '');
}

/* smithy's escaping: encodeURIComponent plus !'()* */
function escapeFull(s) {
	return encodeURIComponent(s).replace(/[!'()*]/g,
		(c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/*
 * Spell a decoded query name or value for the raw query string.  Every
 * spelling decodes to the same bytes; only "%", "&" and (in names) "=" must
 * always be escaped.
 */
function spellQueryPart(r, s, isName) {
	switch (r.int(0, 3)) {
		case 0:
			return escapeFull(s);
		case 1:
			return encodeURIComponent(s);
		case 2:
			return escapeFull(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
		default:
			return s.replace(isName ? /[%&=]/g : /[%&]/g,
				(c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
	}
}

function genQuery(r) {
	const pairs = [];
	const n = r.chance(0.25) ? 0 : r.int(1, 6);
	for (let i = 0; i < n; i++) {
		let name;
		if (pairs.length > 0 && r.chance(0.25))
			name = r.pick(pairs).name;
		else {
			do
				name = r.string(r.chance(0.05) ? 0 : 1, 10, () => uriChar(r));
			while (name.toLowerCase() === 'x-amz-signature');
		}
		const value = r.chance(0.2) ? '' : r.string(1, 14, () => uriChar(r));
		pairs.push({ name, value });
	}

	const object = {};
	const parts = [];
	for (const { name, value } of pairs) {
		if (Object.prototype.hasOwnProperty.call(object, name)) {
			if (!Array.isArray(object[name]))
				object[name] = [object[name]];
			object[name].push(value);
		}
		else
			object[name] = value;

		const spelledName = spellQueryPart(r, name, true);
		if (value === '' && name !== '' && r.chance(0.5))
			parts.push(spelledName);
		else
			parts.push(spelledName + '=' + spellQueryPart(r, value, false));
		if (r.chance(0.05))
			parts.push('');
	}
	return { object, raw: pairs.length > 0 ? parts.join('&') : null };
}

/* Headers smithy drops or adds, and names taken by the fixed headers. */
const RESERVED_HEADERS = new Set([
	'authorization', 'cache-control', 'connection', 'expect', 'from',
	'keep-alive', 'max-forwards', 'pragma', 'referer', 'te', 'trailer',
	'transfer-encoding', 'upgrade', 'user-agent', 'x-amzn-trace-id', 'date',
	'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'host',
]);
const COMMON_HEADERS = [
	'Content-Type', 'Content-Length', 'X-Amz-Target', 'Accept',
	'Accept-Encoding', 'X-Amz-Meta-Owner', 'Content-MD5', 'If-Match',
	'X-Amz-Api-Version', 'My-Header1',
];

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
		return r.pick(COMMON_HEADERS);
	return r.string(1, 20, () => (r.chance(0.85)
		? r.pick(UPPER + LOWER + DIGITS + '-')
		: r.pick(TCHAR_EXTRA)));
}

function genHeaderValue(r, padded) {
	let v = r.string(0, 40, () => headerValueChar(r));
	if (!padded)
		return trimAsciiSpace(v);
	if (r.chance(0.5))
		v = r.string(1, 3, () => r.pick(ASCII_SPACE)) + v;
	if (r.chance(0.5))
		v = v + r.string(1, 3, () => r.pick(ASCII_SPACE));
	return v;
}

function genHost(r) {
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
 * The free-form headers: cHeaders is the list the C signer gets (repeats
 * kept apart), smithyHeaders the object smithy gets (repeats joined).
 */
function genHeaders(r) {
	const cHeaders = [];
	const smithyHeaders = {};
	const used = new Set();

	const hostName = r.pick(['Host', 'host', 'HOST']);
	const host = genHost(r);
	cHeaders.push([hostName, host]);
	smithyHeaders[hostName] = host;

	const n = r.int(0, 8);
	for (let i = 0; i < n; i++) {
		const name = genHeaderName(r);
		const lname = name.toLowerCase();
		if (!headerNameAllowed(lname) || used.has(lname))
			continue;
		used.add(lname);

		if (r.chance(0.2)) {
			const values = [];
			const copies = r.int(2, 4);
			for (let k = 0; k < copies; k++) {
				values.push(genHeaderValue(r, false));
				cHeaders.push([randomCase(r, name), values[k]]);
			}
			smithyHeaders[name] = values.join(',');
		}
		else {
			const value = genHeaderValue(r, true);
			cHeaders.push([name, value]);
			smithyHeaders[name] = value;
		}
	}
	return { cHeaders, smithyHeaders };
}

function genPayload(r) {
	const roll = r.next();
	if (roll < 0.25)
		return undefined;
	if (roll < 0.5)
		return r.string(0, 200, () => (r.chance(0.9) ? String.fromCharCode(r.int(0x20, 0x7e)) : unicodeChar(r)));
	const bytes = new Uint8Array(r.int(0, 600));
	for (let i = 0; i < bytes.length; i++)
		bytes[i] = r.int(0, 255);
	return bytes;
}

function payloadBytes(body) {
	if (body === undefined)
		return Buffer.alloc(0);
	if (typeof body === 'string')
		return Buffer.from(body, 'utf8');
	return Buffer.from(body);
}

function genCredentials(r) {
	const creds = {
		accessKeyId: r.pick(['AKIA', 'ASIA', 'AKID']) + r.string(16, 16, () => r.pick(UPPER + DIGITS)),
		secretAccessKey: r.string(40, 40, () => r.pick(BASE64)),
	};
	if (r.chance(0.5))
		creds.sessionToken = r.string(16, 400, () => r.pick(BASE64 + '='));
	return creds;
}

const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1',
	'ap-southeast-2', 'sa-east-1', 'cn-north-1', 'us-gov-west-1', 'local'];
const SERVICES = ['dynamodb', 'sts', 'service', 'execute-api', 'iam', 'sqs',
	'lambda', 'host'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'];

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

/*
 * The C signer must not depend on the order headers are given in, except
 * that repeats of one name keep their relative order (it is part of the
 * signed value).  Interleave freely under that constraint.
 */
function shuffleKeepingRepeats(r, headers) {
	const keyed = headers.map((h) => ({ h, key: r.next() }));
	const groups = new Map();
	for (const item of keyed) {
		const lname = item.h[0].toLowerCase();
		if (!groups.has(lname))
			groups.set(lname, []);
		groups.get(lname).push(item);
	}
	for (const group of groups.values()) {
		const keys = group.map((item) => item.key).sort((a, b) => a - b);
		group.forEach((item, k) => { item.key = keys[k]; });
	}
	return keyed.sort((a, b) => a.key - b.key).map((item) => item.h);
}

function genRequest(r) {
	const method = r.chance(0.9) ? r.pick(METHODS) : r.string(1, 10, () => r.pick(UPPER));
	const requestPath = genPath(r);
	const query = genQuery(r);
	const { cHeaders, smithyHeaders } = genHeaders(r);
	const body = genPayload(r);
	const credentials = genCredentials(r);
	const region = r.chance(0.8) ? r.pick(REGIONS) : randomName(r);
	const service = r.chance(0.8) ? r.pick(SERVICES) : randomName(r);
	const date = genDate(r);
	const applyChecksum = r.chance(0.5);
	const payload = payloadBytes(body);
	const date8601 = amzDate(date);

	/* The headers smithy adds, handed to the C signer as well. */
	const signedByC = cHeaders.slice();
	signedByC.push([randomCase(r, 'X-Amz-Date'), date8601]);
	if (credentials.sessionToken)
		signedByC.push([randomCase(r, 'X-Amz-Security-Token'), credentials.sessionToken]);
	if (applyChecksum)
		signedByC.push([randomCase(r, 'X-Amz-Content-Sha256'),
			crypto.createHash('sha256').update(payload).digest('hex')]);
	const cList = r.chance(0.5) ? shuffleKeepingRepeats(r, signedByC) : signedByC;

	return {
		smithy: {
			request: new HttpRequest({
				method,
				protocol: 'https:',
				hostname: 'example.amazonaws.com',
				path: requestPath,
				query: query.object,
				headers: smithyHeaders,
				body,
			}),
			credentials,
			region,
			service,
			date,
			applyChecksum,
		},
		c: {
			method,
			path: requestPath,
			query: query.raw,
			headers: cList,
			payload: payload.toString('hex'),
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
		applyChecksum: s.applyChecksum,
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
