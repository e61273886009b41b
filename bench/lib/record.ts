import { execFileSync } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';

/** The machine a benchmark ran on, as recorded in BENCHMARKS.md. */
export function machine(): string {
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${nproc} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

const HEADER = `# Benchmarks

Every result is appended by \`npm run bench\` (or one of \`npm run bench -- <name>\`), with its
command, machine and date. Targets are ratios against a baseline measured **in the same run**:
absolute times on a shared 2-core machine are noise, ratios are the signal.
`;

/** Appends one benchmark section (markdown) to BENCHMARKS.md, creating the file if needed. */
export async function record(title: string, command: string, body: string): Promise<void> {
  const file = 'BENCHMARKS.md';
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing === undefined) await writeFile(file, HEADER);
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16);
  await appendFile(file, `\n## ${title} — ${date} UTC\n\n- Command: \`${command}\`\n- Machine: ${machine()}\n\n${body.trim()}\n`);
}

/** Formats a markdown table. */
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** `met` / `**missed**` for a target. */
export const verdict = (met: boolean): string => (met ? 'met' : '**missed**');
