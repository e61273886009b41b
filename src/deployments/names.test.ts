import { describe, expect, it } from 'vitest';
import { assertResourcePrefix, deploymentNamer, MAX_NAME_CHARS, resourceNames, SAGEMAKER_NAME, versionResourceNames } from './names.js';

const valid = (name: string) => name.length <= MAX_NAME_CHARS && SAGEMAKER_NAME.test(name);

describe('SageMaker names of a version', () => {
  it('starts every name with the prefix and keeps it a valid SageMaker name', () => {
    // Act
    const names = versionResourceNames('sap-dev', 'iris', 3);

    // Assess
    expect(names.endpoint).toMatch(/^sap-dev-iris-v3-[0-9a-f]{8}$/);
    expect(valid(names.endpoint)).toBe(true);
    expect([names.model, names.endpointConfig, names.inferenceComponent]).toEqual([names.endpoint, names.endpoint, names.endpoint]);
    for (const other of [names.trackingPolicy, names.wakePolicy, names.wakeAlarm]) expect(other.startsWith('sap-dev-')).toBe(true);
  });

  it('keeps apart model names that differ only in characters SageMaker forbids, and versions of one model', () => {
    // Act
    const endpoints = ['a.b', 'a_b', 'a-b', 'a..b'].map((model) => versionResourceNames('p', model, 1).endpoint);
    const versions = [1, 2].map((version) => versionResourceNames('p', 'a.b', version).endpoint);

    // Assess
    expect(new Set(endpoints).size).toBe(4);
    expect(endpoints.every(valid)).toBe(true);
    expect(endpoints[0]).toMatch(/^p-a-b-v1-/);
    expect(versions[0]).not.toBe(versions[1]);
  });

  it('cuts long model names to fit 63 characters, never ending the cut on a hyphen', () => {
    // Prepare
    const long = `${'x'.repeat(30)}.${'y'.repeat(97)}`;
    const cutAtHyphen = `${'a'.repeat(17)}.${'b'.repeat(50)}`;

    // Act
    const names = [versionResourceNames('sap-production-12345678', long, 9_999_999_999), versionResourceNames('sap-production-12345678', cutAtHyphen, 9_999_999_999)];

    // Assess
    for (const { endpoint } of names) {
      expect(endpoint.length).toBeLessThanOrEqual(MAX_NAME_CHARS);
      expect(valid(endpoint)).toBe(true);
      expect(endpoint).toMatch(/-v9999999999-[0-9a-f]{8}$/);
    }
    expect(names[1]!.endpoint).toMatch(/^sap-production-12345678-a+-v9999999999-/);
  });

  it('refuses a prefix that is not a SageMaker name or leaves no room', () => {
    // Act & Assess
    expect(assertResourcePrefix('sap-dev')).toBe('sap-dev');
    expect(() => assertResourcePrefix('sap_dev')).toThrowError("invalid SageMaker resource prefix 'sap_dev'");
    expect(() => assertResourcePrefix('-sap')).toThrowError('invalid SageMaker resource prefix');
    expect(() => assertResourcePrefix('x'.repeat(25))).toThrowError('invalid SageMaker resource prefix');
  });

  it('derives every name from the endpoint name the version records', () => {
    // Prepare
    const names = versionResourceNames('p', 'churn', 2);

    // Act & Assess
    expect(resourceNames(names.endpoint)).toEqual(names);
  });

  it('names an inference component only for versions that scale to zero', () => {
    // Prepare
    const name = deploymentNamer('p');

    // Act
    const toZero = name('m', 1, { kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 0, maxInstances: 1 });
    const instances = name('m', 1, { kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 1, maxInstances: 2 });
    const serverless = name('m', 1, { kind: 'sagemaker', serverless: { memorySizeMb: 2048, maxConcurrency: 5 } });

    // Assess
    expect(toZero).toEqual({ endpointName: toZero.endpointName, inferenceComponentName: toZero.endpointName });
    expect(instances).toEqual({ endpointName: toZero.endpointName });
    expect(serverless).toEqual({ endpointName: toZero.endpointName });
  });
});
