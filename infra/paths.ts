/**
 * Absolute paths the CDK app needs, independent of the directory `cdk` runs from.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the directory holding `package.json`, `functions/`, `layers/`). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
