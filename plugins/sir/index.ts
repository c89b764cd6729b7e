export { SirHandler } from './handler';
