import type { FluxgateConfig } from '../config/schema';
import { DAY_MS } from '../cron/job';

/**
 * Retention rules, by the name recorded in tombstones:
 * - archive: processed input files, counted from processing;
 * - quarantine: rejected or dead input files, counted from reception;
 * - unmatched: files left in in/ (no workflow matched, or never journaled), from reception or first sight;
 * - subscription-report: files in out/ins (subscription reports), from creation or first sight;
 * - report: reports and receipts the engine wrote into out/ (and their signatures), from their last write;
 * - out-other: any other file still in out/ (not retrieved by the client), from first sight;
 * - partial-upload: `.filepart` and temporary upload names, from first sight.
 */
export const RETENTION_RULES = ['archive', 'quarantine', 'unmatched', 'subscription-report', 'report', 'out-other', 'partial-upload'] as const;
export type RetentionRule = (typeof RETENTION_RULES)[number];

export type RetentionPeriods = Record<RetentionRule, number>;

export function retentionPeriods(config: FluxgateConfig): RetentionPeriods {
  const r = config.retention;
  return {
    archive: r.archiveDays * DAY_MS,
    quarantine: r.quarantineDays * DAY_MS,
    unmatched: r.unmatchedDays * DAY_MS,
    'subscription-report': r.subscriptionReportDays * DAY_MS,
    report: r.reportDays * DAY_MS,
    'out-other': r.otherOutDays * DAY_MS,
    'partial-upload': r.partialUploadDays * DAY_MS,
  };
}

/** True when a file whose clock started at `since` has outlived the rule's period at `asOf`. */
export function isExpired(periods: RetentionPeriods, rule: RetentionRule, since: number, asOf: number): boolean {
  return asOf - since >= periods[rule];
}

/** Signature files written next to a report or receipt share its fate. */
export const SIGNATURE_SUFFIXES = ['.asc', '.sig'] as const;

/** out/ folder of subscription reports (the `ins` flux). */
export const SUBSCRIPTION_DIR = 'out/ins/';
/** out/ folder that holds the server's public PGP key: only recorded reports are deleted there. */
export const PUBLIC_KEY_DIR = 'out/sig/';
