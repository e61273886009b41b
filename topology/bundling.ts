/**
 * How every function is bundled, shared by the CDK stack (`NodejsFunction`) and
 * the benchmarks that measure the bundle Lambda runs.
 *
 * The AWS SDK is bundled (pinned by package-lock.json, not whatever the runtime
 * ships); `mainFields` prefers its ES-module builds so esbuild can tree-shake them.
 */
import type { BuildOptions } from 'esbuild';

export const FUNCTION_BUNDLING = {
  /**
   * CommonJS: `require` honours NODE_PATH, through which Lambda exposes the layer's
   * /opt/nodejs/node_modules; ESM `import` does not.
   */
  format: 'cjs',
  target: 'node22',
  minify: true,
  mainFields: ['module', 'main'],
  externalModules: [
    // Provided by the onnxruntime layer (`layers/onnxruntime/build.ts`).
    'onnxruntime-node',
    // Provided by the duckdb layer (`layers/duckdb/build.ts`): its native binding is a 67 MB
    // shared library that esbuild cannot bundle, and which only the ingest function loads.
    '@duckdb/node-api',
    // Credential providers the SDK imports lazily and only when the environment has no
    // credentials. Lambda always sets them (so does the local cloud), so these are never
    // loaded; were they ever, the runtime's own copies would answer. Keeping them out
    // saves ~100 KB of cold-start parsing.
    '@aws-sdk/nested-clients',
    '@aws-sdk/credential-provider-ini',
    '@aws-sdk/credential-provider-process',
    '@aws-sdk/credential-provider-sso',
    '@aws-sdk/credential-provider-web-identity',
    '@aws-sdk/credential-provider-http',
    '@aws-sdk/token-providers',
  ],
  /** `import.meta.url` is empty in CommonJS output: give it the bundle's file URL. */
  define: { 'import.meta.url': 'importMetaUrl' },
  /** Starts with the directive so the bundle stays in strict mode. */
  banner: '"use strict";const importMetaUrl=require("url").pathToFileURL(__filename).href;',
} as const;

/**
 * esbuild's options for one function, as the CDK stack bundles it (`NodejsFunction` with
 * {@link FUNCTION_BUNDLING}): the benchmarks, the bundle test and the local cloud build the
 * artifact Lambda runs with these.
 */
export function functionBuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: FUNCTION_BUNDLING.format,
    target: FUNCTION_BUNDLING.target,
    minify: FUNCTION_BUNDLING.minify,
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    external: [...FUNCTION_BUNDLING.externalModules],
    define: { ...FUNCTION_BUNDLING.define },
    banner: { js: FUNCTION_BUNDLING.banner },
    logLevel: 'warning',
  };
}
