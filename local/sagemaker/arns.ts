/** The emulated account and the ARNs and log locations of what the emulator creates in a region. */

/** The account every emulated resource belongs to. */
export const ACCOUNT = '000000000000';

/** ARNs and log locations in one region of the emulated account. */
export class Arns {
  constructor(readonly region: string) {}

  /** A SageMaker ARN: SageMaker lower-cases resource names in ARNs. */
  sagemaker(kind: 'model' | 'endpoint-config' | 'endpoint' | 'inference-component', name: string): string {
    return `arn:aws:sagemaker:${this.region}:${ACCOUNT}:${kind}/${name.toLowerCase()}`;
  }

  /** The CloudWatch log group of an endpoint's containers. */
  logGroupArn(endpoint: string): string {
    return `arn:aws:logs:${this.region}:${ACCOUNT}:log-group:/aws/sagemaker/Endpoints/${endpoint}`;
  }

  /** The console link SageMaker puts in a `ModelError` message. */
  logConsoleUrl(endpoint: string): string {
    return `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#logEventViewer:group=/aws/sagemaker/Endpoints/${endpoint}`;
  }

  /** A CloudWatch alarm's ARN. */
  alarm(name: string): string {
    return `arn:aws:cloudwatch:${this.region}:${ACCOUNT}:alarm:${name}`;
  }

  /** An Application Auto Scaling policy's ARN. */
  scalingPolicy(id: string, resourceId: string, policyName: string): string {
    return `arn:aws:autoscaling:${this.region}:${ACCOUNT}:scalingPolicy:${id}:resource/sagemaker/${resourceId}:policyName/${policyName}`;
  }

  /** An Application Auto Scaling scalable target's ARN. */
  scalableTarget(id: string): string {
    return `arn:aws:application-autoscaling:${this.region}:${ACCOUNT}:scalable-target/${id}`;
  }
}
