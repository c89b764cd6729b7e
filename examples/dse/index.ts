// The module named under `plugins:` in fluxgate.yaml: every exported @fluxHandler class is registered.
export { DseHandler } from './handler';
