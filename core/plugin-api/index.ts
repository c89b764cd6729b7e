/**
 * The plugin API: the only part of the core a flux plugin may import.
 * Everything a handler needs arrives through its FluxContext.
 */
import 'reflect-metadata';

export { inject, injectable } from './injection';
export { ERROR_CODES, FluxgateError, type ErrorCode } from '../errors';
export * from './manifest';
export * from './handler';
export * from './context';
export * from './outcome';
export * from './report';
export * from './records';
export * from './directory';
export * from './tokens';
