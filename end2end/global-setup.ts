// Creates the test users in the run's database (webServers are already up).
import { spawnSync } from 'node:child_process';
import { ADMIN_USERNAME, atomBin, atomEnv, PASSWORD, USERNAME } from './env';

export default function globalSetup() {
  addUser([USERNAME]);
  addUser([ADMIN_USERNAME, '--admin']);
  addUser(['bea']); // changes her password in account.spec.ts
  addUser(['dana']); // the dashboard journeys (dashboard.spec.ts)
}

function addUser(args: string[]) {
  const r = spawnSync(atomBin, ['user', 'add', ...args, '--password-stdin'], {
    env: { ...process.env, ...atomEnv },
    input: PASSWORD, // no trailing newline: right whether the hub reads a line or to EOF
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`"${atomBin} user add ${args.join(' ')}" exited with ${r.status}:\n${r.stdout}${r.stderr}`);
  }
}
