#!/usr/bin/env node
/*
 * forward_proxy.js -- a minimal HTTP forward proxy on 127.0.0.1 for the
 * proxy tests: it relays absolute-form requests ("POST http://host:port/ ...")
 * and CONNECT tunnels, and appends one line per request it relays to the
 * log file ("REQUEST <method> <target>"), so that a test can tell whether a
 * client went through it.  Only targets on 127.0.0.1 are relayed.
 *
 * Usage: node forward_proxy.js --log-file PATH [--port N] [--announce]
 *   --announce: once listening, print "PORT PID" on stdout, and nothing more.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
'use strict';

const fs = require('fs');
const http = require('http');
const net = require('net');

const opts = { port: 0, announce: false, logFile: null };
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  const next = () => {
    if (i + 1 >= process.argv.length) fail(`${arg} needs a value`);
    return process.argv[++i];
  };
  switch (arg) {
    case '--port': opts.port = Number(next()); break;
    case '--announce': opts.announce = true; break;
    case '--log-file': opts.logFile = next(); break;
    default: fail(`unknown argument ${arg}`);
  }
}
if (!opts.logFile) fail('--log-file is required');
if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) fail('--port must be a port number');

function fail(msg) {
  process.stderr.write(`forward_proxy.js: ${msg}\n`);
  process.exit(2);
}

function log(line) {
  fs.appendFileSync(opts.logFile, line + '\n');
}

function loopback(host) {
  return host === '127.0.0.1' || host === 'localhost';
}

const server = http.createServer((req, res) => {
  let target;
  try {
    target = new URL(req.url);
  }
  catch {
    target = null;
  }
  if (!target || target.protocol !== 'http:' || !loopback(target.hostname)) {
    log(`REFUSED ${req.method} ${req.url}`);
    res.writeHead(403, { 'Content-Type': 'text/plain' });
    res.end('only absolute http://127.0.0.1 targets are relayed\n');
    return;
  }
  log(`REQUEST ${req.method} ${req.url}`);
  const headers = { ...req.headers };
  delete headers['proxy-connection'];
  const up = http.request({
    host: '127.0.0.1',
    port: target.port || 80,
    method: req.method,
    path: target.pathname + target.search,
    headers,
  }, (upRes) => {
    res.writeHead(upRes.statusCode, upRes.headers);
    upRes.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(up);
});

server.on('connect', (req, socket, head) => {
  const [host, port] = req.url.split(':');
  if (!loopback(host) || !port) {
    log(`REFUSED CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    return;
  }
  log(`REQUEST CONNECT ${req.url}`);
  const up = net.connect(Number(port), '127.0.0.1', () => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head && head.length) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  up.on('error', () => socket.destroy());
  socket.on('error', () => up.destroy());
});

process.on('SIGTERM', () => process.exit(0));

server.listen(opts.port, '127.0.0.1', () => {
  if (opts.announce) process.stdout.write(`${server.address().port} ${process.pid}\n`);
});
