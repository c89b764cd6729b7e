/**
 * `store.poolSize`'s default: the config schema's, and PgPool's when it is given no size (tests,
 * benchmarks). In config, so that the store imports it without config importing the store (no
 * folder cycle, npm run deps).
 */
export const DEFAULT_STORE_POOL_SIZE = 10;
