/** What a Lambda function of a given memory size gets. */

/** Memory at which Lambda grants one full vCPU. */
const MB_PER_VCPU = 1769;
/** Lambda's maximum vCPUs (at 10,240 MB). */
const MAX_VCPUS = 6;

/** Worker threads for a function of `memoryMb`: one per vCPU Lambda grants, at least one. */
export function threadsForMemory(memoryMb: number): number {
  return Math.min(MAX_VCPUS, Math.max(1, Math.floor(memoryMb / MB_PER_VCPU)));
}
