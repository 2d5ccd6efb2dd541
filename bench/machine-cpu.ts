import { readFile } from 'node:fs/promises';

/**
 * CPU time read from /proc (Linux), to show what else competes with the chat process on
 * this machine: on AWS, DynamoDB and the client run elsewhere; here they share its cores.
 * Absent where /proc is not.
 */
export interface CpuSample {
  /** The whole machine: busy and total jiffies over all cores since boot. */
  machine?: { busy: number; total: number };
  /** DynamoDB Local's JVM: user + system jiffies since it started. */
  dynamodbLocal?: number;
}

/** Linux reports process and machine times in USER_HZ, 100 per second on every current kernel. */
const MS_PER_JIFFY = 10;

export async function sampleCpu(dynamodbLocalPid: number | undefined): Promise<CpuSample> {
  const [stat, jvm] = await Promise.all([
    readFile('/proc/stat', 'utf8').catch(() => undefined),
    dynamodbLocalPid === undefined
      ? undefined
      : readFile(`/proc/${dynamodbLocalPid}/stat`, 'utf8').catch(() => undefined),
  ]);
  return {
    ...(stat && { machine: machineTimes(stat) }),
    ...(jvm && { dynamodbLocal: processJiffies(jvm) }),
  };
}

/** Between two samples: how busy the machine was, and DynamoDB Local's CPU per turn. */
export function cpuBetween(
  before: CpuSample,
  after: CpuSample,
  turns: number,
): { machineBusyPercent?: number; dynamodbLocalCpuMsPerTurn?: number } {
  const total = (after.machine?.total ?? 0) - (before.machine?.total ?? 0);
  const busy = (after.machine?.busy ?? 0) - (before.machine?.busy ?? 0);
  return {
    ...(before.machine &&
      after.machine &&
      total > 0 && { machineBusyPercent: (100 * busy) / total }),
    ...(before.dynamodbLocal !== undefined &&
      after.dynamodbLocal !== undefined && {
        dynamodbLocalCpuMsPerTurn:
          ((after.dynamodbLocal - before.dynamodbLocal) * MS_PER_JIFFY) / turns,
      }),
  };
}

/** The first line of /proc/stat: `cpu user nice system idle iowait irq softirq steal …`. */
function machineTimes(stat: string): { busy: number; total: number } {
  const fields = (stat.split('\n', 1)[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** utime + stime of /proc/<pid>/stat, fields 14 and 15 (the command name may hold spaces). */
function processJiffies(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
