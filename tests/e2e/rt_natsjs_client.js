// An independent client (nats.js from npm, plain Node sockets) calls a libdyn endpoint using
// only the published wire format: the etcd discovery record (spec §3.3), the two-part request
// (§2.3) and the TCP call-home response stream with its control messages (§2.4).
// Usage: node rt_natsjs_client.js <nats-url> <etcd-url> <namespace> <component> <endpoint>
"use strict";
const path = require("path");
const net = require("net");
const crypto = require("crypto");
const { connect, headers } = require(path.join(process.env.DYN_SOURCE_DIR, "tests/tools/node_modules/nats"));

const [natsUrl, etcdUrl, ns, component, endpoint] = process.argv.slice(2);
const fail = (msg) => { console.error("FAIL: " + msg); process.exit(1); };

function frame(header, body) {
  const h = Buffer.from(header || ""), b = Buffer.from(body || "");
  const p = Buffer.alloc(24);
  p.writeBigUInt64BE(BigInt(h.length), 0);
  p.writeBigUInt64BE(BigInt(b.length), 8);
  p.writeBigUInt64BE(0n, 16);
  return Buffer.concat([p, h, b]);
}

async function discover() {
  const prefix = `v1/instances/${ns}/${component}/${endpoint}/`;
  const end = Buffer.from(prefix); end[end.length - 1]++;
  const res = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: Buffer.from(prefix).toString("base64"), range_end: end.toString("base64") }),
  });
  const j = await res.json();
  if (!j.kvs || j.kvs.length !== 1) fail(`expected one instance under ${prefix}, got ${JSON.stringify(j)}`);
  const key = Buffer.from(j.kvs[0].key, "base64").toString();
  const raw = Buffer.from(j.kvs[0].value, "base64").toString();
  const rec = JSON.parse(raw);
  if (rec.type !== "Endpoint" || rec.namespace !== ns || rec.component !== component || rec.endpoint !== endpoint)
    fail(`bad record ${raw}`);
  // instance_id is a JSON integer; compare it exactly (as text) with the key's hex suffix.
  const idText = raw.match(/"instance_id":(\d+)/)[1];
  const hex = key.split("/").pop();
  if (BigInt(idText) !== BigInt("0x" + hex)) fail(`instance_id ${idText} does not match key ${key}`);
  if (!rec.transport || !rec.transport.nats_tcp) fail(`no nats_tcp transport in ${raw}`);
  if (rec.transport.nats_tcp !== `${ns}_${component}.${endpoint}-${hex}`) fail(`unexpected subject ${rec.transport.nats_tcp}`);
  return rec.transport.nats_tcp;
}

// Listens for one call-home connection and parses its frames.
function callHome(onFrame) {
  return new Promise((resolve) => {
    const server = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 24) {
          const hl = Number(buf.readBigUInt64BE(0)), bl = Number(buf.readBigUInt64BE(8));
          if (buf.length < 24 + hl + bl) break;
          const h = buf.subarray(24, 24 + hl).toString(), b = buf.subarray(24 + hl, 24 + hl + bl).toString();
          buf = buf.subarray(24 + hl + bl);
          onFrame(sock, h, b);
        }
      });
      sock.on("close", () => server.close());
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

async function call(nc, subject, body, stopAfter) {
  const streamSubject = crypto.randomUUID(), id = crypto.randomUUID();
  const frames = [];
  let done;
  const finished = new Promise((r) => (done = r));
  const server = await callHome((sock, h, b) => {
    frames.push({ h, b });
    if (h === "\"sentinel\"") { sock.end(); done(); }
    const data = frames.filter((f) => f.b && f.b.includes("\"data\""));
    if (stopAfter && data.length === stopAfter && !sock.stopped) { sock.stopped = true; sock.write(frame("\"stop\"", "")); }
  });
  server.on("close", () => done());
  const info = JSON.stringify({ address: `127.0.0.1:${server.address().port}`, subject: streamSubject, context: id, stream_type: "response" });
  const header = JSON.stringify({ id, request_type: "single_in", response_type: "many_out", connection_info: { transport: "tcp_server", info } });
  const h = headers();
  h.set("request-id", id);
  const ack = await nc.request(subject, frame(header, JSON.stringify(body)), { timeout: 5000, headers: h });
  if (ack.data.length !== 0) fail("acknowledgement is not empty");
  const timer = setTimeout(() => fail("stream did not finish in 10 s"), 10000);
  await finished;
  clearTimeout(timer);
  // Frame 1: handshake; frame 2: prologue.
  const hs = JSON.parse(frames[0].h);
  if (hs.subject !== streamSubject || hs.stream_type !== "response" || frames[0].b !== "") fail(`bad handshake ${frames[0].h}`);
  if (JSON.stringify(JSON.parse(frames[1].h)) !== "{\"error\":null}") fail(`bad prologue ${frames[1].h}`);
  return frames.slice(2);
}

(async () => {
  const subject = await discover();
  const nc = await connect({ servers: natsUrl });

  // 1. Three items, then complete_final, then the sentinel.
  let rest = await call(nc, subject, { n: 3 });
  const items = rest.filter((f) => f.b).map((f) => JSON.parse(f.b));
  if (items.length !== 4) fail(`expected 3 items + final, got ${JSON.stringify(rest)}`);
  for (let i = 0; i < 3; i++) {
    if (items[i].complete_final !== false || items[i].data.i !== i) fail(`bad item ${JSON.stringify(items[i])}`);
  }
  if (items[3].complete_final !== true || "data" in items[3]) fail(`bad final ${JSON.stringify(items[3])}`);
  if (rest[rest.length - 1].h !== "\"sentinel\"" || rest[rest.length - 1].b !== "") fail("no sentinel at the end");

  // 2. "stop" after two items: the worker stops early, sends no complete_final, then the sentinel.
  rest = await call(nc, subject, { n: 2000, delay_ms: 5 }, 2);
  const data = rest.filter((f) => f.b).map((f) => JSON.parse(f.b));
  if (data.length >= 2000 || data.some((d) => d.complete_final)) fail(`stop not honoured: ${data.length} items`);
  if (rest[rest.length - 1].h !== "\"sentinel\"") fail("no sentinel after stop");

  // 3. A single-item response written in one go (item, final, sentinel) parses the same.
  rest = await call(nc, subject, { echo: { deep: ["x", 1, null] } });
  const echo = rest.filter((f) => f.b).map((f) => JSON.parse(f.b));
  if (echo.length !== 2 || JSON.stringify(echo[0]) !== '{"data":{"deep":["x",1,null]},"complete_final":false}' ||
      echo[1].complete_final !== true) fail(`bad echo stream ${JSON.stringify(rest)}`);

  // 4. $SRV PING reaches the service.
  const ping = JSON.parse(new TextDecoder().decode((await nc.request(`$SRV.PING.${ns}_${component}`, "", { timeout: 2000 })).data));
  if (ping.type !== "io.nats.micro.v1.ping_response" || ping.name !== `${ns}_${component}`) fail(`bad ping ${JSON.stringify(ping)}`);

  await nc.close();
  console.log("OK nats.js called the libdyn endpoint with the published framing");
})().catch((e) => fail(e.stack || String(e)));
