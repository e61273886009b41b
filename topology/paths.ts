/**
 * Absolute paths the CDK app and the local cloud need, independent of the directory they run from.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the directory holding `package.json`, `functions/`, `layers/`). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
