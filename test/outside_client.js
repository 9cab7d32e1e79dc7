#!/usr/bin/env node
/*
 * outside_client.js -- a service outside PostgreSQL that takes ids from a
 * seqdist counter, written with the AWS SDK for JavaScript v3 from the
 * README's section "The counter item" and nothing else.
 *
 *   node outside_client.js --endpoint URL --region R --table T --key K
 *        --name NAME --block N --blocks B --out FILE
 *
 * Joins the counter K (which a sequence registered) as NAME, reserves B
 * blocks of N values, writes every value it owns to FILE (one a line, in
 * the order reserved), then leaves.  Credentials come from the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).  A summary
 * goes to stderr; the exit status is 0 only if every step worked.
 *
 * Copyright (c) 2026, the seqdist authors. PostgreSQL License: see LICENSE.
 */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const {
  DynamoDBClient, GetItemCommand, UpdateItemCommand,
} = require('@aws-sdk/client-dynamodb');

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      throw new Error(`usage: outside_client.js --endpoint URL --region R --table T --key K --name NAME --block N --blocks B --out FILE (at "${argv[i]}")`);
    }
    opts[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ['endpoint', 'region', 'table', 'key', 'name', 'block', 'blocks', 'out']) {
    if (opts[k] === undefined) throw new Error(`--${k} is required`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const client = new DynamoDBClient({
  endpoint: opts.endpoint,
  region: opts.region,
  maxAttempts: 5,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    sessionToken: process.env.AWS_SESSION_TOKEN || undefined,
  },
});
const key = { counter: { S: opts.key } };
const names = {
  '#lv': 'last_value', '#inc': 'increment', '#cl': 'clients',
  '#dv': 'def_version', '#wt': 'write_token',
};
const stats = { joins: 0, lostAnswers: 0, refused: 0, blocks: 0, values: 0 };

function num(attr) { return attr === undefined ? undefined : BigInt(attr.N); }
function N(v) { return { N: v.toString() }; }

// Reading: a consistent GetItem
async function read() {
  const out = await client.send(new GetItemCommand({
    TableName: opts.table, Key: key, ConsistentRead: true,
  }));
  if (!out.Item) throw new Error(`counter "${opts.key}" does not exist`);
  const item = out.Item;
  return {
    lastValue: num(item.last_value),
    increment: num(item.increment),
    min: num(item.min_value),
    max: num(item.max_value),
    version: num(item.def_version),
    // format 1 has no clients set (unknown clients); from format 2 on, a
    // missing set means that the last client left
    clients: item.clients ? item.clients.SS : (item.format && Number(item.format.N) >= 2 ? [] : undefined),
    token: item.write_token ? item.write_token.S : undefined,
  };
}

function names_for(...exprs) {
  const used = {};
  for (const [p, a] of Object.entries(names)) {
    if (exprs.some((e) => new RegExp(`${p}(?![A-Za-z0-9_])`).test(e))) used[p] = a;
  }
  return used;
}

function isConditionFailure(err) {
  return err && err.name === 'ConditionalCheckFailedException';
}

// A write other than a reservation: fresh token, conditional on the
// def_version read; on a failed condition, our token in the item means the
// write was applied and its answer lost.  Returns true when applied.
async function tokenWrite(state, update, condition, values) {
  const token = crypto.randomBytes(16).toString('hex');
  const versionCond = state.version === undefined ? 'attribute_not_exists(#dv)' : '#dv = :dv';
  const cond = condition ? `${versionCond} AND ${condition}` : versionCond;
  const vals = { ...values, ':ndv': N((state.version ?? 0n) + 1n), ':wt': { S: token } };
  if (state.version !== undefined) vals[':dv'] = N(state.version);
  const expr = `${update} SET #dv = :ndv, #wt = :wt`;
  try {
    await client.send(new UpdateItemCommand({
      TableName: opts.table, Key: key,
      UpdateExpression: expr, ConditionExpression: cond,
      ExpressionAttributeNames: names_for(expr, cond),
      ExpressionAttributeValues: vals,
    }));
    return true;
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const again = await read();
    if (again.token === token) {
      stats.lostAnswers++;
      return true;
    }
    return false;
  }
}

// Joining: until the clients set holds our name
async function join(increment) {
  for (let tries = 0; tries < 100; tries++) {
    const state = await read();
    if (state.increment !== increment) {
      throw new Error(`counter "${opts.key}" has increment ${state.increment}, not ${increment}`);
    }
    if (state.clients && state.clients.includes(opts.name)) return state;
    const me = state.clients ? [opts.name] : [opts.name, 'format-1-clients'];
    if (await tokenWrite(state, 'ADD #cl :me', '#inc = :inc',
      { ':me': { SS: me }, ':inc': N(increment) })) {
      stats.joins++;
    }
  }
  throw new Error(`could not join counter "${opts.key}"`);
}

// Leaving: until the clients set no longer holds our name
async function leave() {
  for (let tries = 0; tries < 100; tries++) {
    const state = await read();
    if (!state.clients || !state.clients.includes(opts.name)) return;
    await tokenWrite(state, 'DELETE #cl :me', null, { ':me': { SS: [opts.name] } });
  }
  throw new Error(`could not leave counter "${opts.key}"`);
}

// Reserving n values; returns the returned last_value, or null when the
// condition failed
async function reserve(state, n) {
  const inc = state.increment;
  const delta = BigInt(n) * inc;
  const up = inc > 0n;
  const limit = (up ? state.max : state.min) - delta;
  const floor = (up ? state.min : state.max) - inc;
  const cond = up
    ? 'attribute_exists(#lv) AND #inc = :inc AND #lv <= :limit AND #lv >= :floor AND contains(#cl, :me)'
    : 'attribute_exists(#lv) AND #inc = :inc AND #lv >= :limit AND #lv <= :floor AND contains(#cl, :me)';
  const expr = 'SET #lv = #lv + :delta';
  try {
    const out = await client.send(new UpdateItemCommand({
      TableName: opts.table, Key: key,
      UpdateExpression: expr, ConditionExpression: cond,
      ExpressionAttributeNames: names_for(expr, cond),
      ExpressionAttributeValues: {
        ':delta': N(delta), ':inc': N(inc), ':limit': N(limit), ':floor': N(floor),
        ':me': { S: opts.name },
      },
      ReturnValues: 'UPDATED_NEW',
    }));
    return BigInt(out.Attributes.last_value.N);
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    return null;
  }
}

async function main() {
  const n = Number(opts.block);
  const blocks = Number(opts.blocks);
  const fd = fs.openSync(opts.out, 'w');
  const first = await read();
  let state = await join(first.increment);

  while (stats.blocks < blocks) {
    const last = await reserve(state, n);
    if (last === null) {
      // read again: rejoin if we were removed; stop near the bound
      stats.refused++;
      state = await join(first.increment);
      const delta = BigInt(n) * state.increment;
      const room = state.increment > 0n ? state.max - state.lastValue : state.lastValue - state.min;
      if (room < (delta < 0n ? -delta : delta)) throw new Error(`counter "${opts.key}" is exhausted`);
      continue;
    }
    const inc = state.increment;
    const lines = [];
    for (let v = last - BigInt(n) * inc + inc, i = 0; i < n; i++, v += inc) lines.push(v.toString());
    fs.writeSync(fd, `${lines.join('\n')}\n`);
    stats.blocks++;
    stats.values += n;
  }
  fs.closeSync(fd);
  await leave();
  process.stderr.write(`outside client ${opts.name}: ${JSON.stringify(stats)}\n`);
}

main().catch((err) => {
  process.stderr.write(`outside client ${opts.name}: ${err.name || 'Error'}: ${err.message}\n`);
  process.exit(1);
});
