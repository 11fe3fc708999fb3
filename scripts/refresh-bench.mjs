// Times token requests that each find the access token expired, so each refreshes through the
// sandbox (Outlook: rotating refresh tokens), and the hub's CPU time per refresh.
// `node scripts/refresh-bench.mjs HUB_URL KEY USER_ID DB_FILE HUB_PID [ROUNDS]`; prints JSON.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [hub, key, userId, dbFile, pid, rounds = '200'] = process.argv.slice(2);
const ticks = () => {
  // utime + stime, fields 14 and 15 of /proc/PID/stat, in clock ticks (100 per second here).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
};
const expire = () => execFileSync('sqlite3', ['-cmd', '.timeout 5000', dbFile,
  "UPDATE connections SET expires_at = '2000-01-01 00:00:00+00:00' WHERE provider = 'outlook'"]);
const url = `${hub}/api/v1/users/${userId}/connections/outlook/token`;
const times = [];
let cpu = 0;
for (let i = 0; i < Number(rounds); i++) {
  expire();
  const before = ticks();
  const started = performance.now();
  const r = await fetch(url, { headers: { Authorization: `Bearer ${key}` } });
  await r.arrayBuffer();
  times.push(performance.now() - started);
  cpu += ticks() - before;
  if (r.status !== 200) throw new Error(`refresh ${i} answered ${r.status}`);
}
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
console.log(JSON.stringify({
  rounds: times.length, p50_ms: +pct(50).toFixed(1), p99_ms: +pct(99).toFixed(1),
  max_ms: +times.at(-1).toFixed(1), cpu_ms_per_refresh: +((cpu * 10) / times.length).toFixed(2),
}));
