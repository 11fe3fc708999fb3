// SSE fan-out: N open Connections pages (event streams of one signed-in user) and one change
// made through the backend API; prints how long until each stream heard of it, as JSON.
// `node scripts/sse-bench.mjs HUB USER PASSWORD API_KEY USER_ID STREAMS HUB_PID [CHANGE_HUB]`
// The streams are opened on HUB; the change is made on CHANGE_HUB (another instance on the
// same database; HUB when not given). This script signs in and connects; the streams are held
// by a Rust client on one thread (server/examples/sse_fanout.rs, built by bench.sh), so the
// times are the hub's rather than a Node client's. Times are from the moment the change was
// sent; the disconnect first revokes the grant at the sandbox, so `answered_ms`, when the
// change's request was answered, is part of every stream's time.
// Loopback only; bounded: STREAMS connections, one change, at most 30 s.
import { execFileSync } from 'node:child_process';
import { connect, signIn } from './flow.mjs';

const [hub, username, password, key, userId, streamsArg, hubPid, changeHubArg] = process.argv.slice(2);
const changeHub = changeHubArg ?? hub;
const cookie = await signIn(hub, username, password);
const problem = await connect(changeHub, cookie, 'github');
if (problem) throw new Error(`connecting github failed: ${problem}`);
const client = `${process.env.CARGO_TARGET_DIR}/release/examples/sse_fanout`;
const change = `${changeHub}/api/v1/users/${userId}/connections/github`;
process.stdout.write(execFileSync(client, [hub, streamsArg, change, hubPid], {
  timeout: 60_000, env: { ...process.env, SSE_COOKIE: cookie, SSE_API_KEY: key },
}));
