import { describe, expect, it } from 'vitest';
import { loadSageMakerDeployConfig, sagemakerResourcePrefix } from './config.js';

const SAGEMAKER = {
  SAGEMAKER_RESOURCE_PREFIX: 'sap-dev',
  SAGEMAKER_EXECUTION_ROLE_ARN: 'arn:aws:iam::123456789012:role/sap-sagemaker',
  TRITON_IMAGE_URI: '785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3',
  TRITON_CPU_IMAGE_URI: '785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3-cpu',
};

describe('SageMaker settings', () => {
  it('reads all four, none (a platform without SageMaker), and refuses some but not all', () => {
    // Act & Assess
    expect(loadSageMakerDeployConfig(SAGEMAKER)).toEqual({
      resourcePrefix: 'sap-dev',
      executionRoleArn: SAGEMAKER.SAGEMAKER_EXECUTION_ROLE_ARN,
      tritonImageUri: SAGEMAKER.TRITON_IMAGE_URI,
      tritonCpuImageUri: SAGEMAKER.TRITON_CPU_IMAGE_URI,
    });
    expect(loadSageMakerDeployConfig({})).toBeUndefined();
    expect(() => loadSageMakerDeployConfig({ SAGEMAKER_RESOURCE_PREFIX: 'sap-dev' })).toThrowError(/invalid function configuration: SAGEMAKER_EXECUTION_ROLE_ARN: .*TRITON_IMAGE_URI.*TRITON_CPU_IMAGE_URI/);
  });

  it('reads the resource prefix alone (functions that only name resources)', () => {
    // Act & Assess
    expect(sagemakerResourcePrefix(SAGEMAKER)).toBe('sap-dev');
    expect(sagemakerResourcePrefix({})).toBeUndefined();
  });
});
