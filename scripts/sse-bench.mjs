// SSE fan-out: N open Connections pages (event streams of one signed-in user) and one change
// made through the backend API; prints how long until each stream heard of it, as JSON.
// `node scripts/sse-bench.mjs HUB USER PASSWORD API_KEY USER_ID STREAMS HUB_PID [CHANGE_HUB]`
// The streams are opened on HUB; the change is made on CHANGE_HUB (another instance on the
// same database; HUB when not given). Times are from the moment the change was sent; the
// disconnect first revokes the grant at the sandbox, so `answered_ms`, when the change's
// request was answered, is part of every stream's time.
// Loopback only; bounded: STREAMS connections, one change, at most 30 s.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { connect, signIn } from './flow.mjs';

const [hub, username, password, key, userId, streamsArg, hubPid, changeHubArg] = process.argv.slice(2);
const changeHub = changeHubArg ?? hub;
const streams = Number(streamsArg);
const cookie = await signIn(hub, username, password);
const problem = await connect(changeHub, cookie, 'github');
if (problem) throw new Error(`connecting github failed: ${problem}`);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${hubPid}/status`, 'utf8'))[1]);

let changedAt = 0;
const heard = [];
const responses = [];
const open = () => new Promise((resolve, reject) => {
  const request = http.get(`${hub}/api/events`, { agent, headers: { Cookie: cookie, Accept: 'text/event-stream' } }, (response) => {
    if (response.statusCode !== 200) return reject(new Error(`events ${response.statusCode}`));
    let seen = '';
    let done = false;
    responses.push(response);
    response.setEncoding('utf8');
    response.on('data', (chunk) => {
      if (done) return;
      seen += chunk;
      if (changedAt && seen.includes('event: connection')) {
        done = true;
        heard.push(performance.now() - changedAt);
      }
    });
    resolve();
  });
  request.on('error', reject);
});

const rssBefore = rss();
for (let i = 0; i < streams; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, streams - i) }, open));
}
await new Promise((r) => setTimeout(r, 1000)); // every stream subscribed
const rssOpen = rss();
changedAt = performance.now();
const gone = await fetch(`${changeHub}/api/v1/users/${userId}/connections/github`, {
  method: 'DELETE', headers: { Authorization: `Bearer ${key}` },
});
const answered = performance.now() - changedAt;
if (gone.status !== 200) throw new Error(`delete ${gone.status}`);
const deadline = Date.now() + 30_000;
while (heard.length < streams && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
for (const response of responses) response.destroy();
heard.sort((a, b) => a - b);
const pct = (p) => heard[Math.max(0, Math.ceil((p / 100) * heard.length) - 1)];
console.log(JSON.stringify({
  streams, heard: heard.length, answered_ms: Math.round(answered), first_ms: Math.round(heard[0]),
  p50_ms: Math.round(pct(50)), p99_ms: Math.round(pct(99)), max_ms: Math.round(heard.at(-1)),
  rss_before_mib: (rssBefore / 1024).toFixed(1), rss_open_mib: (rssOpen / 1024).toFixed(1),
}));
agent.destroy();
process.exit(0);
