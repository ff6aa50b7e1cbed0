import { resolve } from 'node:path';

/**
 * Where JSON.parse stopped, as a 1-based line and column from V8's "at position N" (the end of the
 * text when it ran out). The text is never quoted: a profiles file may hold prompts.
 */
function jsonErrorAt(text: string, err: SyntaxError): string {
  const position = /at position (\d+)/.exec(err.message);
  const offset = position === null ? text.length : Number(position[1]);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}${position === null ? ' (the file ends too early)' : ''}`;
}

/** The problem a profiles file that cannot be read or parsed stands for: where, never what it holds. */
export function profilesFileProblem(path: string, err: unknown, text: string | undefined): string {
  if (err instanceof SyntaxError && text !== undefined)
    return `PROFILES_FILE: is not valid JSON at ${jsonErrorAt(text, err)}`;
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return `PROFILES_FILE: cannot be read${typeof code === 'string' ? ` (${code})` : ''}: ${resolve(path)}`;
}
