/** What a hosted model container tells the emulator over its IPC channel once it starts (or cannot). */
export type ContainerMessage = { readonly type: 'ready'; readonly port: number } | { readonly type: 'failed'; readonly reason: string };

/** Where the container finds the extracted model archive (SageMaker mounts it at `/opt/ml/model`). */
export const MODEL_DIR_ENV = 'SAGEMAKER_EMULATOR_MODEL_DIR';
