/** The retention, quota and trustProxy settings of `countersign serve` and of the embedded server. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serveConfig } from '../../server/cli/config.js';
import { DEFAULT_RETENTION, splitRetained } from '../../server/store/retention.js';
import { parseGateSettings } from '../../plugin/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'countersign-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('retention and quotas in countersign serve', () => {
  it('defaults to 90 days and the newest 500, and takes flags over the config file', () => {
    expect(serveConfig({ 'data-dir': dir }, {}).retention).toEqual(DEFAULT_RETENTION);
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ retention: { days: 30 }, quotas: { blobMiB: 8, proposals: 5 } }),
    );
    const config = serveConfig({ 'data-dir': dir, 'retention-keep': '200' }, {});
    expect(config.retention).toEqual({ days: 30, keep: 200 });
    expect(config.quotas).toEqual({
      blobBytes: 8 * 1048576,
      proposals: { max: 5, windowMs: 10 * 60_000 },
    });
  });

  it('names the setting when a value is wrong', () => {
    writeFileSync(join(dir, 'config.json'), '{}');
    expect(() => serveConfig({ 'data-dir': dir, 'retention-days': 'soon' }, {})).toThrow(
      /retention.days must be a whole number of days/,
    );
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ retention: { weeks: 2 } }));
    expect(() => serveConfig({ 'data-dir': dir }, {})).toThrow(/retention.weeks is not a setting/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ quotas: { blobMiB: 0 } }));
    expect(() => serveConfig({ 'data-dir': dir }, {})).toThrow(/quotas.blobMiB must be a whole/);
  });
});

describe('retention and trustProxy of the embedded server', () => {
  const context = { userDir: dir, editorOrigins: ['http://127.0.0.1:1880'] };
  it('passes them to the server, and refuses a wrong one naming it', () => {
    const settings = parseGateSettings(
      { retention: { days: 7, keep: 50 }, trustProxy: ['127.0.0.1'] },
      context,
    );
    expect(settings).toMatchObject({ retention: { days: 7, keep: 50 }, trustProxy: ['127.0.0.1'] });
    expect(() => parseGateSettings({ retention: { days: -1 } }, context)).toThrow(
      /countersign.retention must be/,
    );
    expect(() =>
      parseGateSettings(
        { server: 'https://a.example.com', instanceToken: 'x'.repeat(20), retention: {} },
        context,
      ),
    ).toThrow(/countersign.retention is only used with the embedded server/);
  });
});

describe('what the retention keeps', () => {
  it('keeps the newest `keep` decided within `days`, oldest decision first', () => {
    const at = (day: number): string => new Date(Date.UTC(2026, 10, day)).toISOString();
    const recent = [5, 1, 3, 4, 2].map((day) => ({
      id: `d${day}`,
      base: 'b',
      target: `t${day}`,
      decidedAt: at(day),
    }));
    const now = Date.UTC(2026, 10, 6);
    const byKeep = splitRetained(recent, { days: 90, keep: 2 }, now);
    expect(byKeep.kept.map((d) => d.id)).toEqual(['d4', 'd5']);
    expect(byKeep.past.map((d) => d.id)).toEqual(['d1', 'd2', 'd3']);
    const byDays = splitRetained(recent, { days: 3, keep: 500 }, now);
    expect(byDays.kept.map((d) => d.id)).toEqual(['d3', 'd4', 'd5']);
  });
});
