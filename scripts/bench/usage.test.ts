import { expect, test } from 'vitest';
import { memoryPerRun } from './usage';

test('memory per run is the slope of memory over runs in flight, whatever a collection did between two samples', () => {
  // 64 KiB a run over a 400 MiB base, with a collection giving back 30 MiB halfway up.
  const samples = Array.from({ length: 40 }, (_, i) => {
    const running = i < 20 ? i * 50 : (39 - i) * 50;
    return { running, mib: 400 + (running * 64) / 1024 - (i >= 10 ? 30 : 0) };
  });
  const fit = memoryPerRun(samples);
  expect(fit.kibPerRun).toBeGreaterThan(40);
  expect(fit.kibPerRun).toBeLessThan(90);
  expect(fit.samples).toBe(40);
});

test('no figure when memory does not follow the runs, or falls as they rise', () => {
  const falling = Array.from({ length: 20 }, (_, i) => ({ running: i * 50, mib: 500 - i }));
  expect(memoryPerRun(falling).kibPerRun).toBeNaN();
  expect(memoryPerRun(falling).falls).toBe(true);
  const flat = Array.from({ length: 20 }, (_, i) => ({ running: i * 50, mib: 500 }));
  expect(memoryPerRun(flat).kibPerRun).toBeNaN();
  expect(memoryPerRun([{ running: 1, mib: 1 }, { running: 2, mib: null }]).kibPerRun).toBeNaN();
});
