// The fake `flowtrace:plugin/log@0.1.0` of the SDK's unit tests: lines are kept.
export const lines: [string, string][] = [];

export function log(level: string, message: string): void {
  lines.push([level, message]);
}
