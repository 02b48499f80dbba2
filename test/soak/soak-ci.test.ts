/**
 * The chaos soak at CI size: the same harness as `make soak` (bench/soak.ts) for 90 s at
 * 200 updates/s, kill -9 about every 20 s, one SIGTERM restart, a backup under load, injected
 * Bot API faults, and tgwh frozen now and then (STALL=1: the send limits must hold where the
 * fake Bot API counts sends, on arrival, however late a send decided before a freeze gets there).
 * Asserts the zero-counts; the report and chart land in a temp dir.
 */
import { afterAll, expect, test } from "bun:test";
import { runSoak } from "../../bench/soak";
import { removeDir, tempDir } from "../support/tgwh";

const out = tempDir("tgwh-soak-ci-");
let workDir: string | null = null;
afterAll(() => {
  removeDir(out);
  if (workDir) removeDir(workDir);
});

test(
  "90 s chaos soak: nothing dropped, nothing completed twice, no self-caused 429, drained, intact",
  async () => {
    const lines: string[] = [];
    const { report, dir } = await runSoak({ durationS: 90, killEveryS: 20, stallGateway: true, outDir: out, log: (l) => lines.push(l) });
    workDir = dir;
    const why = JSON.stringify({ checks: report.checks, dropped: report.dropped.slice(0, 5), twice: report.completedTwice.slice(0, 5), violations: report.violations.slice(0, 5), reruns: report.reruns, notes: report.notes, log: lines.slice(-5) }, null, 1);
    expect(report.acked, why).toBeGreaterThan(10_000);
    expect(report.kills, why).toBeGreaterThanOrEqual(2);
    expect(report.checks.dropped.value, why).toBe(0);
    expect(report.checks.completedTwice.value, why).toBe(0);
    expect(report.checks.selfCaused429.value, why).toBe(0);
    expect(report.checks.unexplainedRepeatedSends.value, why).toBe(0);
    expect(report.checks.repeatsPerInterruptionWithinConcurrency.ok, why).toBe(true);
    expect(report.checks.notificationsMissing.value, why).toBe(0);
    expect(report.checks.drained.ok, why).toBe(true);
    expect(report.checks.integrity.value, why).toBe("ok");
    expect(report.checks.cleanExit.value, why).toBe(0);
    expect(report.ok, why).toBe(true);
  },
  240_000,
);
