// Loaded with `node --import`: records what the example logs and what each SDK call returns,
// as JSON lines on stderr, so the test can check them without changing the example itself.
import { TajoClient } from '@tajo/sdk';

const log = console.log;
console.log = (...args) => {
  process.stderr.write(`@log ${JSON.stringify(args)}\n`);
  log(...args);
};
const request = TajoClient.prototype.request;
TajoClient.prototype.request = async function (method, path, options) {
  const answer = await request.call(this, method, path, options);
  process.stderr.write(`@answer ${JSON.stringify({ method, path, answer })}\n`);
  return answer;
};
