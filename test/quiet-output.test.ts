/**
 * Noise: the test and npm output carry no warning that says nothing actionable (issue 11, item 25).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '../topology/paths.js';

const run = promisify(execFile);

describe('quiet output', () => {
  it("prints no AWS SDK Node-version notice when a test creates an SDK client, whatever the Node version", () => {
    // Prepare
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);

    // Act
    new S3Client({ region: 'us-east-1' }).destroy();
    const warnings = emitWarning.mock.calls.map(([warning]) => String(warning));
    emitWarning.mockRestore();

    // Assess
    expect(warnings.filter((warning) => warning.includes('NodeVersionSupportWarning'))).toEqual([]);
  });

  it('runs npm in the repository without config warnings', async () => {
    // Prepare
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_config_')));

    // Act
    const { stderr } = await run('npm', ['config', 'get', 'registry'], { cwd: REPO_ROOT, env });

    // Assess
    expect(stderr).not.toMatch(/npm warn/i);
  });
});
