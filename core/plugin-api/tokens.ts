/** Container tokens a plugin may @inject in its constructor. */
export const PluginTokens = {
  /** Unnamed multi-binding of every FluxHandler class. */
  FluxHandler: Symbol.for('fluxgate.FluxHandler'),
  /** The root logger (pino-compatible). */
  Logger: Symbol.for('fluxgate.Logger'),
  /** The loaded FluxgateConfig (read-only). */
  Config: Symbol.for('fluxgate.Config'),
} as const;
