import type { AnyStep } from '../step';
import { archiveStep, quarantineStep } from './move';
import { checkNameStep } from './check-name';
import { decryptStep } from './decrypt';
import { forwardStep } from './forward';
import { handlerStep } from './handler';
import { receiptStep } from './receipt';
import { reportStep } from './report';

/**
 * Every step a workflow may name. Registering a step is one line here (plus its import):
 * its name and options schema then count for validation and the generated JSON Schema.
 */
export const BUILTIN_STEPS: readonly AnyStep[] = [
  receiptStep,
  checkNameStep,
  decryptStep,
  handlerStep,
  reportStep,
  archiveStep,
  quarantineStep,
  forwardStep,
];
