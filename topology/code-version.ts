/**
 * The platform's code version, recorded in the lineage of every trained model:
 * the package version and, in a git checkout, the commit (`0.1.0+3f9a1c2`, with
 * `.dirty` when the working tree has uncommitted changes).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './paths.js';

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined; // not a git checkout (e.g. an npm tarball)
  }
}

/** The code version of this checkout. */
export function platformCodeVersion(): string {
  const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const commit = git(['rev-parse', '--short', 'HEAD']);
  if (commit === undefined) return version;
  const dirty = (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
  return `${version}+${commit}${dirty ? '.dirty' : ''}`;
}
