import { DataValidationError } from '../core/errors.js';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  try {
    return STRICT_UTF8.decode(Buffer.concat(chunks));
  } catch {
    // Decoding leniently would turn every invalid byte into U+FFFD and store a different password.
    throw new DataValidationError('The password on standard input is not valid UTF-8', {
      errors: [{ path: '/password', message: 'must be valid UTF-8' }],
    });
  }
}

/** The first line of standard input, for `--password-stdin` (so passwords never sit in argv). */
export async function passwordFromStdin(): Promise<string> {
  return (await readAll(process.stdin)).split(/\r?\n/)[0] ?? '';
}

function askHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

/** Asks twice on the terminal without echoing; undefined when the two answers differ. */
export async function passwordFromPrompt(): Promise<string | undefined> {
  const first = await askHidden('Password: ');
  const second = await askHidden('Repeat password: ');
  return first === second ? first : undefined;
}
