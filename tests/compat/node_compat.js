// Node.js for the compatibility suite (tests/compat/node.sh): an http server
// and client in one process, fs and crypto work on the libuv thread pool,
// zlib, a worker thread, child processes. Prints results only (counts,
// hashes, exit codes), in a fixed order.
'use strict';
const http = require('http');
const fs = require('fs');
const fsp = require('fs/promises');
const path = require('path');
const crypto = require('crypto');
const zlib = require('zlib');
const util = require('util');
const { execFile, spawn, execFileSync } = require('child_process');
const { Worker } = require('worker_threads');

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);
const dir = process.env.T || '.';

// content of file i: deterministic, 100-300 KB
function content(i) {
  const lines = [];
  let x = i * 7919 + 1;
  const n = 2000 + (i * 37) % 4000;
  for (let j = 0; j < n; j++) {
    x = (x * 69069 + 1) % 4294967296;
    lines.push(`file ${i} line ${j} ${x.toString(16)} ${'abcdefghij'.repeat(x % 5)}`);
  }
  return lines.join('\n') + '\n';
}

// runs f over items, at most `limit` at once
async function pool(items, limit, f) {
  const out = new Array(items.length);
  let next = 0;
  async function lane() {
    while (next < items.length) {
      const k = next++;
      out[k] = await f(items[k], k);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

async function httpPart() {
  let served = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      served++;
      const body = Buffer.concat(chunks);
      const n = Number(new URL(req.url, 'http://x').searchParams.get('n'));
      const payload = Buffer.from(`reply ${n} `.repeat(1 + (n % 50) * 20));
      res.setHeader('X-Body-Hash', sha(body));
      res.writeHead(n % 17 === 0 ? 404 : 200, { 'Content-Type': 'text/plain' });
      res.end(payload);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const one = (n) => new Promise((resolve, reject) => {
    const body = n % 2 ? Buffer.from(`posted body ${n} `.repeat(n % 100)) : null;
    const req = http.request({
      host: '127.0.0.1', port, agent: n % 3 ? agent : undefined,
      method: body ? 'POST' : 'GET', path: `/item?n=${n}`,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(`${res.statusCode} ${res.headers['x-body-hash']} ${sha(Buffer.concat(chunks))}`));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
  const ns = Array.from({ length: 400 }, (_, i) => i);
  const results = await pool(ns, 40, one);
  agent.destroy();
  await new Promise((r) => server.close(r));
  const codes = {};
  for (const r of results) codes[r.split(' ')[0]] = (codes[r.split(' ')[0]] || 0) + 1;
  console.log(`http: ${results.length} responses, ${served} served, status ${JSON.stringify(codes)}, all ${sha(results.join('\n'))}`);
}

async function fsPart() {
  const d = path.join(dir, 'files');
  await fsp.mkdir(d, { recursive: true });
  const ids = Array.from({ length: 60 }, (_, i) => i);
  await pool(ids, 6, (i) => fsp.writeFile(path.join(d, `f${i}.txt`), content(i)));
  // read back with readFile, with streams, and stat
  const read = await pool(ids, 6, async (i) => sha(await fsp.readFile(path.join(d, `f${i}.txt`))));
  const streamed = await pool(ids, 6, (i) => new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(path.join(d, `f${i}.txt`), { highWaterMark: 16384 })
      .on('data', (c) => h.update(c)).on('error', reject)
      .on('end', () => resolve(h.digest('hex').slice(0, 16)));
  }));
  const expected = ids.map((i) => sha(content(i)));
  const sizes = await pool(ids, 6, async (i) => (await fsp.stat(path.join(d, `f${i}.txt`))).size);
  console.log(`fs: ${ids.length} files written, readFile ${JSON.stringify(read) === JSON.stringify(expected) ? 'matches' : 'DIFFERS'}, streams ${JSON.stringify(streamed) === JSON.stringify(expected) ? 'match' : 'DIFFER'}, ${sizes.reduce((a, b) => a + b, 0)} bytes`);
  // append, rename, copy, readdir, unlink
  await fsp.appendFile(path.join(d, 'f0.txt'), 'appended\n');
  await fsp.rename(path.join(d, 'f1.txt'), path.join(d, 'renamed.txt'));
  await fsp.copyFile(path.join(d, 'f2.txt'), path.join(d, 'copy.txt'));
  const names = (await fsp.readdir(d)).sort();
  console.log(`fs: ${names.length} names, first ${names.slice(0, 3).join(' ')}, f0 now ${sha(await fsp.readFile(path.join(d, 'f0.txt')))}, copy ${sha(fs.readFileSync(path.join(d, 'copy.txt'))) === expected[2] ? 'same' : 'DIFFERS'}`);
  await pool(names, 6, (n) => fsp.unlink(path.join(d, n)));
  await fsp.rmdir(d);
  console.log(`fs: removed, exists ${fs.existsSync(d)}`);
}

async function cryptoPart() {
  const pbkdf2 = util.promisify(crypto.pbkdf2);
  const keys = await Promise.all(Array.from({ length: 16 }, (_, i) => pbkdf2(`password ${i}`, `salt ${i}`, 20000, 32, 'sha256')));
  console.log(`pbkdf2: 16 keys, ${sha(Buffer.concat(keys))}, first ${keys[0].toString('hex').slice(0, 16)}`);
  const scrypt = util.promisify(crypto.scrypt);
  const sk = await Promise.all(Array.from({ length: 8 }, (_, i) => scrypt(`pw ${i}`, 'salt', 32)));
  console.log(`scrypt: 8 keys, ${sha(Buffer.concat(sk))}`);
  const randomBytes = util.promisify(crypto.randomBytes);
  const rnd = await Promise.all(Array.from({ length: 32 }, (_, i) => randomBytes(1024 + i)));
  const distinct = new Set(rnd.map((b) => b.toString('hex'))).size;
  console.log(`randomBytes: ${rnd.length} buffers, ${rnd.reduce((a, b) => a + b.length, 0)} bytes, ${distinct} distinct`);
  // hashing files read on the pool
  const f = path.join(dir, 'hashme.bin');
  await fsp.writeFile(f, Buffer.from(content(99).repeat(20)));
  const hashes = await Promise.all(['sha1', 'sha256', 'sha512', 'md5'].map(async (alg) =>
    `${alg} ${crypto.createHash(alg).update(await fsp.readFile(f)).digest('hex').slice(0, 16)}`));
  console.log(`file hashes: ${hashes.join(', ')}`);
  const { publicKey, privateKey } = await util.promisify(crypto.generateKeyPair)('ec', { namedCurve: 'P-256' });
  const sig = crypto.sign('sha256', Buffer.from('message'), privateKey);
  console.log(`ec key pair: signature verifies ${crypto.verify('sha256', Buffer.from('message'), publicKey, sig)}`);
}

async function zlibPart() {
  const input = Buffer.from(Array.from({ length: 20 }, (_, i) => content(i)).join(''));
  const gz = await util.promisify(zlib.gzip)(input, { level: 6 });
  const back = await util.promisify(zlib.gunzip)(gz);
  const br = await util.promisify(zlib.brotliCompress)(input.subarray(0, 500000));
  console.log(`zlib: ${input.length} bytes, gzip ${gz.length} ${sha(gz)}, round trip ${back.equals(input) ? 'ok' : 'DIFFERS'}, brotli ${br.length}`);
}

async function workerPart() {
  const src = `const { parentPort, workerData } = require('worker_threads');
    let s = 0; for (let i = 0; i < workerData; i++) s = (s + i * i) % 1000000007;
    parentPort.postMessage(s);`;
  const results = await Promise.all([1e6, 2e6, 3e6].map((n) => new Promise((resolve, reject) => {
    const w = new Worker(src, { eval: true, workerData: n });
    w.on('message', resolve);
    w.on('error', reject);
  })));
  console.log(`worker threads: ${results.join(' ')}`);
}

async function childPart() {
  const ef = util.promisify(execFile);
  const { stdout } = await ef('echo', ['hello', 'from', 'echo']);
  console.log(`execFile echo: ${stdout.trim()}`);
  const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => ef('sh', ['-c', `echo child ${i}; expr ${i} + 1`])));
  console.log(`8 execFile sh: ${outs.map((o) => o.stdout.trim().replace('\n', '=')).join(', ')}`);
  const code = await new Promise((resolve) => {
    const p = spawn('sh', ['-c', 'read x; echo "got $x"; exit 3'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c) => { out += c; });
    p.on('close', (c) => resolve(`${out.trim()} exit ${c}`));
    p.stdin.end('input line\n');
  });
  console.log(`spawn with stdin: ${code}`);
  console.log(`execFileSync: ${execFileSync('sha256sum', { input: 'abc' }).toString().slice(0, 16)}`);
}

(async () => {
  await httpPart();
  await fsPart();
  await cryptoPart();
  await zlibPart();
  await workerPart();
  await childPart();
  console.log('done');
})().catch((e) => { console.error(e); process.exit(1); });
