import { z } from 'zod';
import type { ErrorCode } from '../errors';

/**
 * The HTTP status of each error code the API can answer with: the one table (codes not
 * named here are 400 when they come from the caller's input, see `statusOf`).
 */
const STATUS: Partial<Record<ErrorCode, number>> = {
  FG_UNAUTHENTICATED: 401,
  FG_FORBIDDEN: 403,
  FG_CSRF: 403,
  FG_NOT_FOUND: 404,
  FG_ACCOUNT_NOT_FOUND: 404,
  FG_KEY_NOT_FOUND: 404,
  FG_FILE_NOT_FOUND: 404,
  FG_NO_SUCH_FILE: 404,
  FG_JOB_NOT_FOUND: 404,
  FG_OPERATOR_NOT_FOUND: 404,
  FG_TOKEN_NOT_FOUND: 404,
  FG_DELIVERY_NOT_FOUND: 404,
  FG_EXPECTATION_NOT_FOUND: 404,
  FG_SUBSCRIPTION_NOT_FOUND: 404,
  FG_SUBSCRIPTION_EXISTS: 409,
  FG_ACCOUNT_EXISTS: 409,
  FG_KEY_EXISTS: 409,
  FG_OPERATOR_EXISTS: 409,
  FG_TOKEN_EXISTS: 409,
  FG_ACCOUNT_LEFTOVERS: 409,
  FG_ACCOUNT_PURGED: 409,
  FG_ACCOUNT_DISABLED: 409,
  FG_ACCOUNT_BUSY: 409,
  FG_JOB_RUNNING: 409,
  FG_REPLAY: 409,
  FG_DELIVERY_STATE: 409,
  FG_WORKFLOW_INVALID: 422,
  FG_RATE_LIMITED: 429,
  FG_INTERNAL: 500,
  FG_PGP: 500,
  FG_DATA_DIR: 500,
};

export function statusOf(code: string): number {
  return STATUS[code as ErrorCode] ?? 400;
}

/** Every error answer: `{"error":{"code":"FG_…","message":"…"}}` (details when the code has some). */
export const ErrorBody = z.object({
  error: z.object({
    code: z.string().regex(/^FG_[A-Z0-9_]+$/),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export type ErrorBodyType = z.infer<typeof ErrorBody>;

/** The error answers documented on every /api/v1 route. */
export const ERROR_RESPONSES = {
  400: ErrorBody.describe('invalid request (FG_BAD_REQUEST, or the code of the refused input)'),
  401: ErrorBody.describe('no valid credentials (FG_UNAUTHENTICATED)'),
  403: ErrorBody.describe('the role does not allow this (FG_FORBIDDEN), or a change made with the console cookie has no valid CSRF token (FG_CSRF)'),
  404: ErrorBody.describe('no such thing (FG_*_NOT_FOUND)'),
  409: ErrorBody.describe('conflicts with the current state (FG_*_EXISTS, FG_REPLAY…)'),
  422: ErrorBody.describe('a workflow source is invalid (FG_WORKFLOW_INVALID)'),
  429: ErrorBody.describe('too many failed logins or bad tokens from this address (FG_RATE_LIMITED)'),
  500: ErrorBody.describe('internal error (FG_INTERNAL)'),
} as const;
